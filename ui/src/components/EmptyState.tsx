import type { ComponentChildren } from 'preact';

type Props = {
  title: string;
  children: ComponentChildren;
  /** Marks a screen whose feature is not in this version yet. */
  comingSoon?: boolean;
  testId?: string;
};

export function EmptyState({ title, children, comingSoon = false, testId = 'empty-state' }: Props) {
  return (
    <section class="empty-state" data-testid={testId}>
      {comingSoon && <p class="badge badge-muted">Not available in this version yet</p>}
      <h2>{title}</h2>
      <div class="empty-body">{children}</div>
    </section>
  );
}
