// Kestra-like state colours and helpers.
export const STATE_COLORS = {
    SUCCESS: "#029E73",
    RUNNING: "#1761FD",
    CREATED: "#5a8dfd",
    SUBMITTED: "#5a8dfd",
    RESTARTED: "#1761FD",
    QUEUED: "#7c8a9a",
    RETRYING: "#6f42c1",
    RETRIED: "#8a63d2",
    FAILED: "#E0182D",
    KILLING: "#F58220",
    KILLED: "#F58220",
    WARNING: "#F58220",
    PAUSED: "#918BA9",
    CANCELLED: "#918BA9",
    SKIPPED: "#adb5bd",
};

const TERMINATED = new Set(["SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "SKIPPED", "RETRIED"]);

export const ALL_STATES = ["CREATED", "RUNNING", "SUCCESS", "WARNING", "FAILED", "KILLING", "KILLED",
    "PAUSED", "RESTARTED", "QUEUED", "CANCELLED", "RETRYING", "RETRIED", "SKIPPED"];

export const stateColor = (state) => STATE_COLORS[state] || "#6c757d";
export const isTerminated = (state) => TERMINATED.has(state);
export const isRunning = (state) => !!state && !TERMINATED.has(state) && state !== "PAUSED";
