"""template.yaml read the way SAM and CloudFormation read it, for the local stack.

Everything the local stack wires up (handlers, environment, timeouts, schedules, stream mappings, API routes,
tables, queues) comes from here, so there is no second hand-written copy of the deployment to drift.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "template.yaml"

LOCAL_REGION = "us-east-1"
LOCAL_ACCOUNT_ID = "123456789012"  # moto's default account

SHORT_FORM_TAGS = {"Ref": "Ref", "Condition": "Condition", "GetAtt": "Fn::GetAtt"}

# SAM defaults when neither the function nor Globals say otherwise.
DEFAULT_TIMEOUT_SECONDS = 3
DEFAULT_MEMORY_MB = 128
DEFAULT_ASYNC_RETRY_ATTEMPTS = 2


class TemplateError(ValueError):
    """The template uses something the local stack cannot reproduce (or is malformed)."""


class CfnLoader(yaml.SafeLoader):
    """YAML loader that turns CloudFormation short-form tags into their long (JSON) form."""


def _construct_intrinsic(loader: CfnLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {SHORT_FORM_TAGS.get(tag_suffix, f"Fn::{tag_suffix}"): value}


CfnLoader.add_multi_constructor("!", _construct_intrinsic)


def load_document(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    document = yaml.load(path.read_text(), Loader=CfnLoader)  # CfnLoader is a SafeLoader
    if not isinstance(document, dict) or "Resources" not in document:
        raise TemplateError(f"{path} is not a CloudFormation template")
    return document


class ResourceNames(Protocol):
    """Physical names of the template's resources (what !Ref and !GetAtt return); the local stack provides them."""

    def ref(self, logical_id: str) -> str: ...

    def get_att(self, logical_id: str, attribute: str) -> str: ...


# ----------------------------------------------------------------------------------------------- function model


@dataclass(frozen=True)
class ScheduleEvent:
    name: str
    expression: str  # rate(...) / cron(...)
    input: str | None  # JSON text, as EventBridge passes it
    enabled: bool
    timezone: str
    schedule_name: str | None = None  # ScheduleV2 `Name`: the EventBridge Scheduler schedule (API-controllable)


@dataclass(frozen=True)
class StreamEvent:
    name: str
    table_logical_id: str
    starting_position: str
    batch_size: int
    maximum_retry_attempts: int  # -1 = until the record expires, as in AWS
    bisect_on_error: bool
    report_batch_item_failures: bool
    filter_patterns: tuple[dict[str, Any], ...]
    on_failure_queue_logical_id: str | None
    enabled: bool


@dataclass(frozen=True)
class ApiEvent:
    name: str
    path: str
    method: str  # upper case; ANY matches every method
    rest_api_logical_id: str | None


@dataclass(frozen=True)
class AsyncInvokeConfig:
    maximum_retry_attempts: int
    on_failure_queue_logical_id: str | None


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    module: str  # import path, e.g. functions.product_import.app
    attribute: str  # e.g. lambda_handler
    timeout_seconds: int
    memory_mb: int
    environment: Mapping[str, Any]  # template values, intrinsics unresolved
    schedules: tuple[ScheduleEvent, ...]
    streams: tuple[StreamEvent, ...]
    api_routes: tuple[ApiEvent, ...]
    async_config: AsyncInvokeConfig


# ----------------------------------------------------------------------------------------------- template


class SamTemplate:
    def __init__(self, document: Mapping[str, Any], parameter_overrides: Mapping[str, str] | None = None) -> None:
        self.document = document
        self.parameters = self._parameter_values(parameter_overrides or {})
        self.mappings: Mapping[str, Any] = document.get("Mappings", {})
        self._conditions: dict[str, bool] = {}

    @classmethod
    def load(cls, path: Path = TEMPLATE_PATH, **parameter_overrides: str) -> SamTemplate:
        return cls(load_document(path), parameter_overrides)

    # -- parameters and conditions

    def _parameter_values(self, overrides: Mapping[str, str]) -> dict[str, Any]:
        declared: Mapping[str, Any] = self.document.get("Parameters", {})
        unknown = set(overrides) - set(declared)
        if unknown:
            raise TemplateError(f"unknown parameters: {sorted(unknown)}")
        values: dict[str, Any] = {}
        for name, spec in declared.items():
            if name not in overrides and "Default" not in spec:
                raise TemplateError(f"parameter {name} has no default; pass a value")
            value = overrides.get(name, spec.get("Default"))
            allowed = spec.get("AllowedValues")
            if allowed is not None and str(value) not in {str(v) for v in allowed}:
                raise TemplateError(f"parameter {name}={value!r} is not one of {allowed}")
            values[name] = value
        return values

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            definition = self.document.get("Conditions", {}).get(name)
            if definition is None:
                raise TemplateError(f"unknown condition {name}")
            self._conditions[name] = bool(self.resolve(definition, None))
        return self._conditions[name]

    # -- resources

    def resources(self, resource_type: str) -> dict[str, Mapping[str, Any]]:
        """Properties of every resource of a type whose Condition (if any) holds, by logical id."""
        found: dict[str, Mapping[str, Any]] = {}
        for logical_id, resource in self.document["Resources"].items():
            if resource.get("Type") != resource_type:
                continue
            if "Condition" in resource and not self.condition(resource["Condition"]):
                continue
            found[logical_id] = resource.get("Properties", {})
        return found

    def resource_type(self, logical_id: str) -> str:
        try:
            return str(self.document["Resources"][logical_id]["Type"])
        except KeyError:
            raise TemplateError(f"no resource {logical_id} in the template") from None

    def tables(self) -> dict[str, Mapping[str, Any]]:
        return self.resources("AWS::DynamoDB::Table")

    def queues(self) -> dict[str, Mapping[str, Any]]:
        return self.resources("AWS::SQS::Queue")

    def topics(self) -> dict[str, Mapping[str, Any]]:
        return self.resources("AWS::SNS::Topic")

    def functions(self) -> dict[str, FunctionSpec]:
        global_properties = self.document.get("Globals", {}).get("Function", {})
        return {
            logical_id: self._function_spec(logical_id, _merge_globals(global_properties, properties))
            for logical_id, properties in self.resources("AWS::Serverless::Function").items()
        }

    def function(self, logical_id: str) -> FunctionSpec:
        try:
            return self.functions()[logical_id]
        except KeyError:
            raise TemplateError(f"no AWS::Serverless::Function {logical_id} in the template") from None

    def _function_spec(self, logical_id: str, properties: Mapping[str, Any]) -> FunctionSpec:
        code_uri = properties.get("CodeUri")
        handler = properties.get("Handler")
        if not isinstance(code_uri, str) or not isinstance(handler, str) or "." not in handler:
            raise TemplateError(f"{logical_id}: needs a local CodeUri folder and a module.attribute Handler")
        handler_module, attribute = handler.rsplit(".", 1)
        package = ".".join(part for part in Path(code_uri).parts if part not in {".", ""})
        events = properties.get("Events", {})
        return FunctionSpec(
            logical_id=logical_id,
            module=f"{package}.{handler_module}",
            attribute=attribute,
            timeout_seconds=int(self.resolve(properties.get("Timeout", DEFAULT_TIMEOUT_SECONDS), None)),
            memory_mb=int(self.resolve(properties.get("MemorySize", DEFAULT_MEMORY_MB), None)),
            environment=properties.get("Environment", {}).get("Variables", {}),
            schedules=tuple(self._schedule_events(events)),
            streams=tuple(self._stream_events(events)),
            api_routes=tuple(self._api_events(events)),
            async_config=self._async_config(properties.get("EventInvokeConfig", {})),
        )

    def _schedule_events(self, events: Mapping[str, Any]) -> Iterator[ScheduleEvent]:
        for name, event in events.items():
            props = event.get("Properties", {})
            schedule_name = None
            if event.get("Type") == "ScheduleV2":
                enabled = self.resolve(props.get("State", "ENABLED"), None) == "ENABLED"
                expression, timezone = props["ScheduleExpression"], props.get("ScheduleExpressionTimezone", "UTC")
                schedule_name = str(self.resolve(props["Name"], None)) if "Name" in props else None
            elif event.get("Type") == "Schedule":
                enabled = bool(self.resolve(props.get("Enabled", True), None))
                expression, timezone = props["Schedule"], "UTC"
            else:
                continue
            yield ScheduleEvent(
                name=name,
                expression=str(self.resolve(expression, None)),
                input=self.resolve(props["Input"], None) if "Input" in props else None,
                enabled=enabled,
                timezone=str(self.resolve(timezone, None)),
                schedule_name=schedule_name,
            )

    def _stream_events(self, events: Mapping[str, Any]) -> Iterator[StreamEvent]:
        for name, event in events.items():
            if event.get("Type") != "DynamoDB":
                continue
            props = event["Properties"]
            filters = props.get("FilterCriteria", {}).get("Filters", [])
            on_failure = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
            yield StreamEvent(
                name=name,
                table_logical_id=_referenced_logical_id(props["Stream"]),
                starting_position=str(props.get("StartingPosition", "TRIM_HORIZON")),
                batch_size=int(props.get("BatchSize", 100)),
                maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
                bisect_on_error=bool(props.get("BisectBatchOnFunctionError", False)),
                report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                filter_patterns=tuple(json.loads(self.resolve(f["Pattern"], None)) for f in filters),
                on_failure_queue_logical_id=_referenced_logical_id(on_failure) if on_failure else None,
                enabled=bool(props.get("Enabled", True)),
            )

    @staticmethod
    def _api_events(events: Mapping[str, Any]) -> Iterator[ApiEvent]:
        for name, event in events.items():
            if event.get("Type") != "Api":
                continue
            props = event["Properties"]
            rest_api = props.get("RestApiId")
            yield ApiEvent(
                name=name,
                path=str(props["Path"]),
                method=str(props["Method"]).upper(),
                rest_api_logical_id=_referenced_logical_id(rest_api) if rest_api else None,
            )

    @staticmethod
    def _async_config(config: Mapping[str, Any]) -> AsyncInvokeConfig:
        on_failure = config.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        return AsyncInvokeConfig(
            maximum_retry_attempts=int(config.get("MaximumRetryAttempts", DEFAULT_ASYNC_RETRY_ATTEMPTS)),
            on_failure_queue_logical_id=_referenced_logical_id(on_failure) if on_failure else None,
        )

    def function_environment(self, spec: FunctionSpec, names: ResourceNames) -> dict[str, str]:
        """The function's environment variables with every intrinsic resolved to local names."""
        return {key: _as_env_string(self.resolve(value, names)) for key, value in spec.environment.items()}

    # -- intrinsic functions

    def resolve(self, value: Any, names: ResourceNames | None) -> Any:
        """Evaluate CloudFormation intrinsics; `names` answers !Ref / !GetAtt of resources (None: parameters only)."""
        if isinstance(value, list):
            return [self.resolve(item, names) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" or key.startswith("Fn::") or key == "Condition":
                return self._intrinsic(key, argument, names)
        return {key: self.resolve(item, names) for key, item in value.items()}

    def _intrinsic(self, name: str, argument: Any, names: ResourceNames | None) -> Any:  # noqa: PLR0911
        match name:
            case "Ref":
                return self._ref(argument, names)
            case "Condition":
                return self.condition(argument)
            case "Fn::GetAtt":
                logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return _require(names, f"!GetAtt {logical_id}.{attribute}").get_att(logical_id, attribute)
            case "Fn::Sub":
                return self._sub(argument, names)
            case "Fn::If":
                condition, if_true, if_false = argument
                return self.resolve(if_true if self.condition(condition) else if_false, names)
            case "Fn::Equals":
                left, right = self.resolve(argument, names)
                return str(left) == str(right)
            case "Fn::Not":
                return not self.resolve(argument[0], names)
            case "Fn::And":
                return all(self.resolve(argument, names))
            case "Fn::Or":
                return any(self.resolve(argument, names))
            case "Fn::Join":
                separator, items = argument
                return str(separator).join(str(item) for item in self.resolve(items, names))
            case "Fn::Select":
                index, items = self.resolve(argument, names)
                return items[int(index)]
            case "Fn::Split":
                separator, text = self.resolve(argument, names)
                return str(text).split(separator)
            case "Fn::FindInMap":
                map_name, top_key, second_key = self.resolve(argument, names)
                return self.mappings[map_name][top_key][second_key]
            case _:
                raise TemplateError(f"{name} is not supported by the local stack")

    def _ref(self, target: str, names: ResourceNames | None) -> Any:
        if target in self.parameters:
            return self.parameters[target]
        pseudo = {
            "AWS::Region": LOCAL_REGION,
            "AWS::AccountId": LOCAL_ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": local_stack_name(self),
        }
        if target in pseudo:
            return pseudo[target]
        return _require(names, f"!Ref {target}").ref(target)

    def _sub(self, argument: Any, names: ResourceNames | None) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        resolved_variables = {key: self.resolve(value, names) for key, value in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression.startswith("!"):  # ${!Literal} stays as ${Literal}
                return "${" + expression[1:] + "}"
            if expression in resolved_variables:
                return str(resolved_variables[expression])
            if "." in expression and not expression.startswith("AWS::"):
                logical_id, attribute = expression.split(".", 1)
                return str(_require(names, f"${{{expression}}}").get_att(logical_id, attribute))
            return str(self._ref(expression, names))

        return re.sub(r"\$\{([^}]+)\}", substitute, text)


def function_arn(function_name: str) -> str:
    return f"arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:function:{function_name}"


def local_stack_name(template: SamTemplate) -> str:
    """What the deployed stack is called (samconfig: shopsync-<env>); local physical names derive from it."""
    return f"shopsync-{template.parameters.get('Environment', 'local')}"


def _merge_globals(global_value: Any, local_value: Any) -> Any:
    """SAM's Globals rules: maps merge key by key, lists add up, the function's own scalar wins."""
    if isinstance(global_value, dict) and isinstance(local_value, dict):
        merged = dict(global_value)
        for key, value in local_value.items():
            merged[key] = _merge_globals(global_value[key], value) if key in global_value else value
        return merged
    if isinstance(global_value, list) and isinstance(local_value, list):
        return global_value + local_value
    return local_value


def _referenced_logical_id(value: Any) -> str:
    """`!GetAtt X.Arn` / `!Ref X` → "X"; locally only resources of this template can be wired."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Ref" and isinstance(argument, str):
            return argument
        if key == "Fn::GetAtt":
            return str(argument[0] if isinstance(argument, list) else argument.split(".", 1)[0])
    raise TemplateError(f"{value!r} must reference a resource of this template (!Ref or !GetAtt)")


def _require(names: ResourceNames | None, what: str) -> ResourceNames:
    if names is None:
        raise TemplateError(f"{what} needs resource names; only parameters are known here")
    return names


def _as_env_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise TemplateError(f"environment value {value!r} did not resolve to a scalar")
    return str(value)
