import {createApp} from "vue";
import {createRouter, createWebHashHistory} from "vue-router";

import "bootstrap/dist/css/bootstrap.min.css";
import "@vue-flow/core/dist/style.css";
import "@vue-flow/core/dist/theme-default.css";
import "@vue-flow/controls/dist/style.css";
import "@kestra-io/ui-libs/style.css";
import "./style.css";

import App from "./App.vue";
import store from "./store.js";
import FlowsList from "./views/FlowsList.vue";
import FlowPage from "./views/FlowPage.vue";
import ExecutionsList from "./views/ExecutionsList.vue";
import ExecutionPage from "./views/ExecutionPage.vue";
import ExecutionRedirect from "./views/ExecutionRedirect.vue";

// A link written for Kestra's own UI (the flow commands print one after `run`) opens the same view here:
// /ui/<tenant>/executions/<namespace>/<flow>/<id>[/<tab>] and /ui/<tenant>/flows/edit/<namespace>/<id>[/<tab>].
function routeOfKestraPath(pathname) {
    const parts = pathname.replace(/^\/ui\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
    const [, area, ...rest] = parts;
    const path = (segments) => "/" + segments.map(encodeURIComponent).join("/");
    if (area === "executions" && rest.length >= 3) {
        return path(["executions", ...rest.slice(0, 4)]);
    }
    if (area === "flows" && rest[0] === "edit" && rest.length >= 3) {
        return path(["flows", ...rest.slice(1, 4)]);
    }
    return area === "executions" || area === "flows" ? "/" + area : null;
}

const kestraRoute = routeOfKestraPath(window.location.pathname);
if (kestraRoute) {
    window.history.replaceState(null, "", "/ui/#" + kestraRoute);
}

const router = createRouter({
    history: createWebHashHistory(),
    routes: [
        {path: "/", redirect: "/flows"},
        {path: "/flows", name: "flows", component: FlowsList},
        {path: "/flows/:namespace/:id/:tab?", name: "flow", component: FlowPage},
        {path: "/executions", name: "executions", component: ExecutionsList},
        {path: "/executions/:namespace/:flowId/:id/:tab?", name: "execution", component: ExecutionPage},
        {path: "/execution/:id", name: "execution-by-id", component: ExecutionRedirect},
        {path: "/:pathMatch(.*)*", redirect: "/flows"},
    ],
});

// ui-libs' nodes call this.$t(...) (Kestra's UI provides vue-i18n): a small English map is enough here.
const MESSAGES = {
    "show task logs": "Show task logs",
    "show task condition": "Show task condition",
    "show description": "Show description",
    "add error handler": "Add error handler",
    "edit": "Edit",
    "delete": "Delete",
    "open": "Open",
    "expand": "Expand",
    "collapse": "Collapse",
};

const app = createApp(App);
app.config.globalProperties.$t = (key) => MESSAGES[key] ?? key;
app.config.globalProperties.$tc = (key) => MESSAGES[key] ?? key;
// $moment (read by ui-libs' Utils.dateFilter) is set by components/TopologyView.vue, which loads ui-libs lazily.
app.use(store);
app.use(router);
app.mount("#app");
