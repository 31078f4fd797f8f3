"""METAFLOW_RUN_<NAME>: which variable a Parameter's default comes from, and how it is read."""

import pytest
from metaflow import JSONType, Parameter

from metaflow_kestra.parameters import UnsupportedParameter, deploy_default, run_default_variable


def parameter(name, **kwargs):
    param = Parameter(name, **kwargs)
    param.init()
    return param


def test_the_variable_is_the_one_click_reads_for_a_local_run():
    assert run_default_variable("alpha") == "METAFLOW_RUN_ALPHA"
    assert run_default_variable("learning-rate") == "METAFLOW_RUN_LEARNING_RATE"


@pytest.mark.parametrize("kwargs,text,expected", [
    ({"default": 1, "type": int}, "5", 5),
    ({"default": 0.5, "type": float}, "2.5", 2.5),
    ({"default": False, "type": bool}, "yes", True),
    ({"default": "a"}, "{{ b }}", "{{ b }}"),
    ({"default": "{}", "type": JSONType}, '{"n": [1, null]}', {"n": [1, None]}),
])
def test_the_value_is_read_with_the_parameter_s_type(kwargs, text, expected):
    assert deploy_default(parameter("p", **kwargs), "F", {"METAFLOW_RUN_P": text}) == expected
    assert deploy_default(parameter("p", **kwargs), "F", {}) == kwargs["default"]


def test_a_value_of_the_wrong_type_names_the_flow_the_parameter_and_the_variable():
    with pytest.raises(UnsupportedParameter, match=r"Flow F, parameter 'p': METAFLOW_RUN_P='x' cannot be its "
                                                   r"default: .*not a valid integer.*unset METAFLOW_RUN_P"):
        deploy_default(parameter("p", default=1, type=int), "F", {"METAFLOW_RUN_P": "x"})
