import type { ComponentChildren } from 'preact';

type Props = { title: string; subtitle?: string; children?: ComponentChildren };

export function ScreenHeader({ title, subtitle, children }: Props) {
  return (
    <div class="screen-header">
      <div>
        <h1 data-testid="screen-title">{title}</h1>
        {subtitle && <p class="screen-subtitle">{subtitle}</p>}
      </div>
      {children && <div class="screen-actions">{children}</div>}
    </div>
  );
}
