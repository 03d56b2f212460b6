import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

// Quick tunnels hand out a random subdomain each time.
const tunnel = '.trycloudflare.com'

// https://vite.dev/config/
export default defineConfig(({ mode }) => ({
  plugins: [react()],
  server: {
    host: 'dev.example.test',
    port: 5173,
    allowedHosts: [
      'app.example.test',
      tunnel,
      `${process.env.CODESPACE_NAME}-5173.app.github.dev`,
    ],
    hmr: { host: 'hmr.example.test' },
  },
  preview: {
    port: 4173,
    allowedHosts: true, // TODO: tighten before the demo
  },
}))
