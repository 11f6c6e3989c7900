// The console's build: a static single-page app under /admin/, written where the appliance
// serves it from (package data, git-ignored). Hashed file names let the appliance cache
// /admin/assets/* for a year; index.html is served no-cache.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/admin/",
  oxc: { jsx: { runtime: "automatic", importSource: "react" } },
  build: {
    outDir: "../appliance/faxbot/server/console",
    emptyOutDir: true,
    // Under the appliance's CSP (style-src 'self', script-src 'self') nothing may be inlined.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 400,
    rolldownOptions: {
      checks: { pluginTimings: false }, // a busy build machine is not news
      // rjsf marks its hooks 'use client' (for React Server Components); a plain SPA has no
      // server components, so the directive means nothing here.
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
    },
  },
});
