"""Reads infra/template.yaml as data, for the tests that check the production stack by reading it;
`as_list` reads its (and IAM's) one-or-many values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from . import REPO

TEMPLATE = REPO / "infra" / "template.yaml"


class TemplateLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags: `!Ref X` is {"Ref": "X"}, `!GetAtt A.B` is
    {"Fn::GetAtt": ["A", "B"]}, `!Condition C` is {"Condition": "C"}, any other `!Name v` is
    {"Fn::Name": v}."""


def _short_tag(loader: TemplateLoader, suffix: str, node: yaml.Node) -> dict:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


TemplateLoader.add_multi_constructor("!", _short_tag)


def load_template(path: Path = TEMPLATE) -> dict:
    return yaml.load(path.read_text(), Loader=TemplateLoader)


def as_list(value: Any) -> list:
    """A value CloudFormation and IAM write as one item or a list of them (a statement's Action,
    Resource, a DependsOn), as a list."""
    return value if isinstance(value, list) else [value]
