// Talks to Kestra's REST API (tenant "main") with HTTP basic auth.
// The credentials live in sessionStorage only (never in a URL); a 401 sends the UI back to its login form.
import {reactive} from "vue";

const STORAGE_KEY = "metaflow-kestra-ui.auth";
export const API = "/api/v1/main";

export const auth = reactive({
    header: sessionStorage.getItem(STORAGE_KEY) || null,
    user: sessionStorage.getItem(STORAGE_KEY + ".user") || "",
    message: "",
});

function base64(text) {
    const bytes = new TextEncoder().encode(text);
    let binary = "";
    bytes.forEach((b) => { binary += String.fromCharCode(b); });
    return btoa(binary);
}

export function setCredentials(user, password) {
    auth.header = "Basic " + base64(user + ":" + password);
    auth.user = user;
    auth.message = "";
    sessionStorage.setItem(STORAGE_KEY, auth.header);
    sessionStorage.setItem(STORAGE_KEY + ".user", user);
}

export function logout(message = "") {
    auth.header = null;
    auth.message = message;
    sessionStorage.removeItem(STORAGE_KEY);
    sessionStorage.removeItem(STORAGE_KEY + ".user");
}

export class ApiError extends Error {
    constructor(status, message) {
        super(message);
        this.status = status;
    }
}

async function errorOf(response) {
    let text = "";
    try {
        text = await response.text();
        const body = JSON.parse(text);
        text = body.message || body.error || text;
    } catch {
        // not JSON: keep the text
    }
    return new ApiError(response.status, `${response.status} ${response.statusText}${text ? ": " + text : ""}`);
}

/** fetch() of an API path with the Authorization header; throws ApiError unless 2xx. */
export async function apiFetch(path, options = {}) {
    const headers = new Headers(options.headers || {});
    if (auth.header) {
        headers.set("Authorization", auth.header);
    }
    // credentials "omit": the server answers 401 with "WWW-Authenticate: Basic", and a request that may carry
    // credentials would make the browser pop up its own login dialog (and cache the password) instead.
    const response = await fetch(path.startsWith("/api/") ? path : API + path, {...options, headers, credentials: "omit"});
    if (response.status === 401) {
        logout("Your session ended or the credentials were refused: please sign in again.");
        throw new ApiError(401, "Unauthorized");
    }
    if (!response.ok) {
        throw await errorOf(response);
    }
    return response;
}

export async function getJson(path, options) {
    const response = await apiFetch(path, options);
    const text = await response.text();
    return text ? JSON.parse(text) : null;
}

export function query(params) {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
        if (value === undefined || value === null || value === "") continue;
        (Array.isArray(value) ? value : [value]).forEach((v) => search.append(key, v));
    }
    const text = search.toString();
    return text ? "?" + text : "";
}

/** Checks credentials before keeping them: a cheap authenticated call. */
export async function login(user, password) {
    const header = "Basic " + base64(user + ":" + password);
    const response = await fetch(API + "/flows/search?page=1&size=1", {headers: {Authorization: header}, credentials: "omit"});
    if (response.status === 401 || response.status === 403) {
        throw new ApiError(response.status, "Wrong user or password.");
    }
    if (!response.ok) {
        throw await errorOf(response);
    }
    setCredentials(user, password);
}

export const getConfig = () => fetch("/api/v1/configs", {credentials: "omit"}).then((r) => (r.ok ? r.json() : null)).catch(() => null);

export const enc = encodeURIComponent;

export const searchFlows = () => getJson(`/flows/search?page=1&size=200`);
export const getFlow = (ns, id, revision) => getJson(`/flows/${enc(ns)}/${enc(id)}${query({source: true, revision})}`);
export const getFlowGraph = (ns, id, revision) => getJson(`/flows/${enc(ns)}/${enc(id)}/graph${query({revision})}`);
export const searchExecutions = (params) =>
    getJson(`/executions/search${query({page: 1, size: 25, sort: "state.startDate:desc", ...params})}`);
export const getExecution = (id) => getJson(`/executions/${enc(id)}`);
export const getLogs = (id, params = {}) => getJson(`/logs/${enc(id)}${query(params)}`);

export async function triggerFlow(ns, id, values, labels = []) {
    const form = new FormData();
    for (const [key, value] of Object.entries(values)) {
        form.append(key, value);
    }
    return getJson(`/executions/${enc(ns)}/${enc(id)}${query({labels})}`, {method: "POST", body: form});
}

// Kestra 1.x: executions/{id}/kill and /restart; 2.x moved them under executions/{id}/actions/.
async function executionAction(id, action, method) {
    try {
        return await apiFetch(`/executions/${enc(id)}/${action}`, {method});
    } catch (e) {
        if (e.status === 404 || e.status === 405) {
            return apiFetch(`/executions/${enc(id)}/actions/${action}`, {method});
        }
        throw e;
    }
}

export const killExecution = (id) => executionAction(id, "kill", "DELETE");
export const restartExecution = (id) => executionAction(id, "restart", "POST");

export const fileUrl = (executionId, path) => `/executions/${enc(executionId)}/file${query({path})}`;

export async function fetchFileText(executionId, path) {
    return (await apiFetch(fileUrl(executionId, path))).text();
}

/** Downloads an execution's output file through fetch (the link needs the Authorization header). */
export async function downloadFile(executionId, path, name) {
    const blob = await (await apiFetch(fileUrl(executionId, path))).blob();
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = name || path.split("/").pop();
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/**
 * Follows a server-sent-events endpoint with fetch() (EventSource cannot send Authorization).
 * Calls onEvent({id, event, data}) per event, onEnd() when the server closes the stream.
 * Returns an AbortController: abort() stops it.
 */
export function follow(path, {onEvent, onEnd, onError}) {
    const controller = new AbortController();
    (async () => {
        try {
            const response = await apiFetch(path, {signal: controller.signal, headers: {Accept: "text/event-stream"}});
            const reader = response.body.getReader();
            const decoder = new TextDecoder();
            let buffer = "";
            let event = {data: []};
            const dispatch = () => {
                if (event.data.length > 0) {
                    onEvent({id: event.id, event: event.event || "message", data: event.data.join("\n")});
                }
                event = {data: []};
            };
            for (;;) {
                const {value, done} = await reader.read();
                if (done) break;
                buffer += decoder.decode(value, {stream: true});
                let newline;
                while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
                    const line = buffer.slice(0, newline);
                    buffer = buffer.slice(newline + (buffer.startsWith("\r\n", newline) ? 2 : 1));
                    if (line === "") {
                        dispatch();
                    } else if (!line.startsWith(":")) {
                        const colon = line.indexOf(":");
                        const field = colon < 0 ? line : line.slice(0, colon);
                        let val = colon < 0 ? "" : line.slice(colon + 1);
                        if (val.startsWith(" ")) val = val.slice(1);
                        if (field === "data") event.data.push(val);
                        else if (field === "id") event.id = val;
                        else if (field === "event") event.event = val;
                    }
                }
            }
            dispatch();
            if (!controller.signal.aborted && onEnd) onEnd();
        } catch (e) {
            if (controller.signal.aborted || e.name === "AbortError") return;
            if (onError) onError(e);
        }
    })();
    return controller;
}
