// The Vuex store that @kestra-io/ui-libs' Topology nodes read: module "execution" with the state/getter
// `execution` (the run whose task runs colour the nodes) and the getter `subflowsExecutions`.
import {createStore} from "vuex";

export default createStore({
    modules: {
        execution: {
            namespaced: true,
            state: () => ({execution: undefined, subflowsExecutions: {}}),
            getters: {
                execution: (state) => state.execution,
                subflowsExecutions: (state) => state.subflowsExecutions,
            },
            mutations: {
                setExecution(state, execution) {
                    state.execution = execution;
                },
                addSubflowExecution(state, {taskRunId, execution}) {
                    state.subflowsExecutions = {...state.subflowsExecutions, [taskRunId]: execution};
                },
                reset(state) {
                    state.execution = undefined;
                    state.subflowsExecutions = {};
                },
            },
        },
    },
});
