// Small formatting helpers.
export function parseDuration(value) {
    // Kestra gives durations as seconds (number) or ISO-8601 (PT1.2S).
    if (value === undefined || value === null) return undefined;
    if (typeof value === "number") return value;
    const m = /^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$/.exec(value);
    if (!m) return Number(value) || undefined;
    return (Number(m[1] || 0) * 3600) + (Number(m[2] || 0) * 60) + Number(m[3] || 0);
}

export function humanDuration(seconds) {
    if (seconds === undefined || seconds === null || Number.isNaN(seconds)) return "";
    if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
    if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)}s`;
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = Math.floor(seconds % 60);
    return h ? `${h}h ${m}m ${s}s` : `${m}m ${s}s`;
}

export function formatDate(value) {
    if (!value) return "";
    const d = new Date(value);
    const pad = (n, w = 2) => String(n).padStart(w, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function formatTime(value) {
    if (!value) return "";
    const d = new Date(value);
    const pad = (n, w = 2) => String(n).padStart(w, "0");
    return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** Elapsed seconds of a Kestra state ({startDate, endDate, duration}); `now` for a running one. */
export function stateSeconds(state, now = Date.now()) {
    if (!state || !state.startDate) return undefined;
    const start = new Date(state.startDate).getTime();
    const end = state.endDate ? new Date(state.endDate).getTime() : now;
    return Math.max(0, (end - start) / 1000);
}

/** Labels as a list of {key, value}, whichever shape the API gave. */
export function labelList(labels) {
    if (!labels) return [];
    if (Array.isArray(labels)) return labels;
    return Object.entries(labels).map(([key, value]) => ({key, value}));
}

export const userLabels = (labels) => labelList(labels).filter((l) => !l.key.startsWith("system."));

export async function copyText(text) {
    try {
        await navigator.clipboard.writeText(text);
        return true;
    } catch {
        const area = document.createElement("textarea");
        area.value = text;
        document.body.appendChild(area);
        area.select();
        const ok = document.execCommand("copy");
        area.remove();
        return ok;
    }
}

/** Metaflow run pathspec of an execution: from a task run's outputs, else from the metaflow-flow label. */
export function runPathspec(execution) {
    if (!execution) return undefined;
    for (const taskRun of execution.taskRunList || []) {
        const pathspec = taskRun.outputs?.vars?.pathspec;
        if (typeof pathspec === "string" && pathspec.includes("/")) {
            return pathspec.split("/").slice(0, 2).join("/");
        }
    }
    const flowName = labelList(execution.labels).find((l) => l.key === "metaflow-flow")?.value;
    return flowName ? `${flowName}/kestra-${execution.id}` : undefined;
}

/** Task runs in tree order (children right after their parent), each with its depth. */
export function taskRunTree(taskRunList) {
    const list = taskRunList || [];
    const ids = new Set(list.map((t) => t.id));
    const children = new Map();
    for (const t of list) {
        const parent = t.parentTaskRunId && ids.has(t.parentTaskRunId) ? t.parentTaskRunId : null;
        if (!children.has(parent)) children.set(parent, []);
        children.get(parent).push(t);
    }
    const out = [];
    const walk = (parent, depth) => {
        for (const t of children.get(parent) || []) {
            out.push({taskRun: t, depth});
            walk(t.id, depth + 1);
        }
    };
    walk(null, 0);
    return out;
}
