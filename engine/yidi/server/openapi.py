"""The OpenAPI 3.1 document of `yidi serve`, generated from the contract's JSON Schemas.

One source of truth: the request and answer shapes are the very files in
`schemas/` (claim, filing request, decision) that validate documents and
type policy expressions. OpenAPI 3.1 speaks JSON Schema 2020-12, so the
schemas go in unchanged except for where their `$defs` live: each file's
`$defs` become `components/schemas/<File>.<name>` and its local `$ref`s are
rewritten to point there (a `$ref` in OpenAPI resolves against the whole
document, not the schema file it came from). Only the server's own error
bodies are written here.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from .. import __version__
from ..adapters import nhsa
from ..errors import SHOWN_PROBLEMS
from ..resources import schema_file

NDJSON = "application/x-ndjson"
JSON = "application/json"
SCHEMAS = {"Claim": "claim.schema.json", "FilingRequest": "filing-request.schema.json", "Decision": "decision.schema.json"}


def _rewrite(node: Any, prefix: str) -> Any:
    if isinstance(node, dict):
        out = {k: _rewrite(v, prefix) for k, v in node.items() if k not in ("$schema", "$id", "$defs")}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            out["$ref"] = f"#/components/schemas/{prefix}.{ref[len('#/$defs/'):]}"
        return out
    if isinstance(node, list):
        return [_rewrite(v, prefix) for v in node]
    return node


def contract_components() -> dict[str, Any]:
    """The three contract schemas and their $defs as OpenAPI components."""
    components: dict[str, Any] = {}
    for name, file in SCHEMAS.items():
        schema = json.loads(schema_file(file).read_text(encoding="utf-8"))
        for def_name, definition in schema.get("$defs", {}).items():
            components[f"{name}.{def_name}"] = _rewrite(definition, name)
        components[name] = _rewrite(schema, name)
    return components


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_PROBLEM = {"type": "object", "required": ["path", "message"],
            "properties": {"path": {"type": "string"}, "message": {"type": "string"}, "message_en": {"type": "string"}}}
_ERRORS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"], "description": "出错时的答复：error 为稳定的错误码。",
              "properties": {"error": {"type": "string"}, "message": {"type": "string"}, "message_en": {"type": "string"}}},
    "InputErrorBody": {"type": "object", "required": ["error", "problems"],
                       "description": f"输入无效（422）或无法解析（400）：列出出错的 JSON 路径（按路径排序的前 {SHOWN_PROBLEMS} 处；其余只计数，见 problems_omitted）。",
                       "properties": {"error": {"type": "string"}, "problems": {"type": "array", "items": _PROBLEM, "maxItems": SHOWN_PROBLEMS},
                                      "problems_omitted": {"type": "integer", "minimum": 1,
                                                           "description": "未列出的问题数（仅在有未列出的问题时出现；问题极多时校验提前停止，此数为下限）"}}},
    "UndecidedBody": {"type": "object", "required": ["error", "rules"], "description": "政策无法作出决定（409）：规则冲突、无适用规则、参数无取值。",
                      "properties": {"error": {"type": "string"}, "message": {"type": "string"}, "message_en": {"type": "string"},
                                     "rules": {"type": "array", "items": {"type": "string"}}, "where": {"type": "array", "items": {"type": "string"}}}},
    "PolicyCheck": {"type": "object", "required": ["valid", "diagnostics"], "description": "政策树检查的结果（含每个问题的文件位置）。",
                    "properties": {"valid": {"type": "boolean"}, "revision": {"type": ["string", "null"]}, "serving": {"type": "string"},
                                   "diagnostics": {"type": "array", "items": {"type": "object"}}}},
    "BatchItem": {"description": "批量中的一项：答复，或该项的错误（带 index）。",
                  "oneOf": [_ref("Decision"), {"type": "object", "required": ["index", "error"],
                                               "properties": {"index": {"type": "integer"}, "error": {"type": "string"}}}]},
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {JSON: {"schema": schema}}


def _errors(*codes: str) -> dict[str, Any]:
    described = {
        "400": ("请求体不是可解析的 JSON", "InputErrorBody"), "401": ("缺少或错误的管理令牌", "Error"),
        "403": ("未配置管理令牌，管理接口已停用", "Error"), "409": ("政策无法作出决定，或新政策树未通过检查", "UndecidedBody"),
        "408": ("请求体未在 --body-timeout 内传完（连接随后关闭）", "Error"),
        "413": ("请求体超过大小限制", "Error"), "415": ("不支持的 Content-Type", "Error"),
        "422": ("输入不符合接口约定，列出每个出错的 JSON 路径", "InputErrorBody"), "503": ("决定日志不可写，未作决定", "Error"),
    }
    return {code: {"description": described[code][0], "content": _json(_ref(described[code][1]))} for code in codes}


_TRACE = [{"name": "trace", "in": "query", "required": False, "description": "full 完整依据（默认）或 ids 仅规则编号",
           "schema": {"type": "string", "enum": ["full", "ids"]}}]
_CLIENT = {"name": "X-Yidi-Client", "in": "header", "required": False, "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,63}$"},
           "description": "调用方自称（如工作台发送 workbench），记入决定日志的 client 字段；不合格式的值被忽略"}


@functools.cache
def _document() -> str:
    components = {**contract_components(), **_ERRORS, "NhsaClaim": nhsa.input_schema(), "NhsaDecision": nhsa.output_schema()}
    document_schema = {"oneOf": [_ref("Claim"), _ref("FilingRequest")]}
    paths: dict[str, Any] = {
        "/v1/evaluate": {"post": {
            "summary": "对一份结算申请或备案办理申请作出决定", "operationId": "evaluate", "parameters": [*_TRACE, _CLIENT],
            "requestBody": {"required": True, "content": {**_json(document_schema), nhsa.MEDIA_TYPE: {"schema": _ref("NhsaClaim")}}},
            "responses": {"200": {"description": "决定（Accept: application/vnd.nhsa+json 时用结算单字段名）",
                                  "content": {**_json(_ref("Decision")), nhsa.MEDIA_TYPE: {"schema": _ref("NhsaDecision")}}},
                          **_errors("400", "408", "409", "413", "415", "422", "503")}}},
        "/v1/evaluate/batch": {"post": {
            "summary": "按顺序对多份文档作出决定；无效的项以其错误作答，不影响其余各项", "operationId": "evaluateBatch",
            "parameters": [{**_TRACE[0], "description": "full 完整依据或 ids 仅规则编号（默认）"}, _CLIENT],
            "requestBody": {"required": True, "content": {
                **_json({"type": "array", "items": document_schema}),
                nhsa.MEDIA_TYPE: {"schema": {"type": "array", "items": _ref("NhsaClaim")}},
                NDJSON: {"schema": {"type": "string", "description": "每行一份 JSON 文档"}}}},
            "responses": {"200": {"description": "每项一个答复，顺序与请求相同（NDJSON 请求得到 NDJSON 答复）",
                                  "content": {**_json({"type": "array", "items": _ref("BatchItem")}), NDJSON: {"schema": {"type": "string"}}}},
                          **_errors("400", "408", "413", "415", "422", "503")}}},
        "/v1/validate": {"post": {
            "summary": "检查服务器所配置的政策目录（不读取请求指定的任何文件）", "operationId": "validate",
            "responses": {"200": {"description": "检查结果", "content": _json(_ref("PolicyCheck"))}}}},
        "/v1/regions": {"get": {
            "summary": "可决定的地区、各自的政策文件与政策版本", "operationId": "regions",
            "responses": {"200": {"description": "地区列表", "content": _json({"type": "object", "required": ["revision", "regions"]})}}}},
        "/v1/regions/{region}/parameters": {"get": {
            "summary": "某参保地在某日生效的参数取值及出处", "operationId": "parameters",
            "parameters": [{"name": "region", "in": "path", "required": True, "description": "参保地6位医保区划代码",
                            "schema": {"type": "string", "pattern": "^[1-9][0-9]{5}$"}},
                           {"name": "on", "in": "query", "required": False, "description": "日期 YYYY-MM-DD，默认今天",
                            "schema": {"type": "string", "format": "date"}}],
            "responses": {"200": {"description": "参数取值", "content": _json({"type": "object", "required": ["parameters", "unset"]})},
                          **_errors("422")}}},
        "/v1/admin/reload": {"post": {
            "summary": "重新加载并完整检查政策目录，通过后原子切换", "operationId": "reload", "security": [{"bearer": []}],
            "responses": {"200": {"description": "已切换（或未变化）", "content": _json({"type": "object"})},
                          "409": {"description": "新政策树未通过检查，旧版本继续服务", "content": _json(_ref("PolicyCheck"))},
                          **_errors("401", "403")}}},
        "/healthz": {"get": {"summary": "进程存活", "operationId": "healthz", "responses": {"200": {"description": "存活"}}}},
        "/readyz": {"get": {"summary": "可以服务（政策已加载、决定日志可写）", "operationId": "readyz",
                            "responses": {"200": {"description": "就绪"}, "503": {"description": "未就绪"}}}},
        "/metrics": {"get": {"summary": "Prometheus 指标", "operationId": "metrics",
                             "responses": {"200": {"description": "Prometheus 文本格式", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
    }
    document = {
        "openapi": "3.1.0",
        "info": {"title": "yidi — 异地就医直接结算政策引擎", "version": __version__,
                 "description": "请求与答复的结构即 schemas/ 中的接口约定 JSON Schema（claim、filing-request、decision）。"},
        "paths": paths,
        "components": {"schemas": components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
    return json.dumps(document, ensure_ascii=False)


def openapi_text() -> str:
    return _document()
