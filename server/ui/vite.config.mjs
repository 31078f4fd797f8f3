// Vite config of the metaflow-kestra local server's web UI.
// The server serves the built files under /ui/ (index.html + assets/*), the app routes with the URL hash.
import {fileURLToPath} from "node:url";
import {defineConfig} from "vite";
import vue from "@vitejs/plugin-vue";

// @kestra-io/ui-libs bundles a markdown renderer written for Nuxt (@nuxtjs/mdc); outside Nuxt its virtual
// imports have to point at the stub the package ships. We only use its Topology, which never renders markdown.
const mdcStub = fileURLToPath(new URL("./node_modules/@kestra-io/ui-libs/stub-mdc-imports.js", import.meta.url));
// ui-libs imports "moment-timezone", whose default entry carries every zone since 1900 (~700 kB minified);
// it only guesses the browser's zone for dates, so the build with ten years of data is enough.
const momentTimezone = fileURLToPath(new URL("./node_modules/moment-timezone/builds/moment-timezone-with-data-10-year-range.js", import.meta.url));

export default defineConfig({
    base: "/ui/",
    plugins: [vue()],
    resolve: {
        alias: [
            {find: /^#imports$/, replacement: mdcStub},
            {find: /^#mdc-imports$/, replacement: mdcStub},
            {find: /^#mdc-configs$/, replacement: mdcStub},
            {find: /^#build\/mdc-image-component\.mjs$/, replacement: mdcStub},
            {find: /^moment-timezone$/, replacement: momentTimezone},
        ],
    },
    build: {
        outDir: process.env.METAFLOW_KESTRA_UI_OUT || "dist",
        emptyOutDir: true,
        // ui-libs (and its Topology stack) is loaded lazily, by src/components/TopologyView.vue only.
        chunkSizeWarningLimit: 1000,
    },
    server: {
        host: "127.0.0.1",
        proxy: {
            "/api": {
                target: process.env.KESTRA_URL || "http://127.0.0.1:18280",
                changeOrigin: true,
            },
        },
    },
});
