import { defineConfig } from 'vitest/config';

// `npm run dev` talks to a real gateway when SWITCHBOARD_GATEWAY is set
// (e.g. http://127.0.0.1:PORT): /api and /login are proxied there, so the
// one-time login link works as http://localhost:5173/login?code=...
declare const process: { env: Record<string, string | undefined> }; // avoids @types/node
const gateway = process.env.SWITCHBOARD_GATEWAY;

export default defineConfig({
  // Relative asset paths: the Tauri window and the gateway at `/` both load dist/.
  base: './',
  // Vite 8 transforms with Oxc (its `esbuild` option is deprecated): Preact's automatic JSX runtime.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: {
    strictPort: true,
    ...(gateway
      ? {
          proxy: Object.fromEntries(
            ['/api', '/login'].map((path) => [
              path,
              {
                target: gateway,
                changeOrigin: true,
                // The gateway rejects foreign origins (DNS-rebinding guard).
                headers: { origin: gateway },
              },
            ]),
          ),
        }
      : {}),
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
