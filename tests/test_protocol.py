"""The protocol: what a page sends is decoded strictly, what the server sends (to a lesson page
or to the teacher's landscape) round-trips, every message is documented, the ids are one set of
types, and the web process refuses any kernel frame that is not a well-formed reply."""

from __future__ import annotations

import re
import typing
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest
from live_server import ROOT

import app.content.model
import app.protocol
from app.protocol import (
    MAX_ARRAY_VALUES,
    Array,
    ClientMessage,
    KernelReply,
    KernelRequest,
    KEvaluated,
    KHello,
    Open,
    Ping,
    Run,
    ServerMessage,
    Slide,
    TeacherMessage,
    client_decoder,
    reply_decoder,
    reply_encoder,
    request_decoder,
    request_encoder,
    server_encoder,
)

CLIENT_TYPES = typing.get_args(ClientMessage)
SERVER_TYPES = typing.get_args(ServerMessage)
REPLY_TYPES = typing.get_args(KernelReply)
REQUEST_TYPES = typing.get_args(KernelRequest)
TEACHER_TYPES = typing.get_args(TeacherMessage)


def sample(t: mi.Type) -> Any:
    """A value of type `t` that differs from the usual defaults, to catch lost fields."""
    if isinstance(t, mi.StrType):
        return "text ✓"
    if isinstance(t, mi.BoolType):
        return True
    if isinstance(t, mi.IntType):
        return 7
    if isinstance(t, mi.FloatType):
        return 0.25
    if isinstance(t, mi.BytesType):
        return b"\x00\x01\xff"
    if isinstance(t, mi.LiteralType):
        return t.values[-1]
    if isinstance(t, mi.ListType):
        return [sample(t.item_type), sample(t.item_type)]
    if isinstance(t, mi.TupleType):
        return tuple(sample(item) for item in t.item_types)
    if isinstance(t, mi.DictType):
        return {"w": sample(t.value_type)}
    if isinstance(t, mi.AnyType):
        return {"traces": [0], "data": {"y": [[1.5, -2.0]]}}
    if isinstance(t, mi.StructType):
        return instance(t.cls)
    if isinstance(t, mi.UnionType):
        return sample(t.types[0])
    raise NotImplementedError(f"no sample for {t}")


def instance(cls: type[msgspec.Struct]) -> Any:
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    return cls(**{f.name: sample(f.type) for f in info.fields})


def tag_of(cls: type[msgspec.Struct]) -> str:
    return str(cls.__struct_config__.tag)


# ----------------------------------------------------------------------------- page -> server


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"type":"open","cells":{"model":"x = 1"}}', Open(cells={"model": "x = 1"})),
        ('{"type":"open"}', Open()),
        ('{"type":"slide","values":{"w":0.5,"b":-2},"seq":3}', Slide({"w": 0.5, "b": -2.0}, 3)),
        ('{"type":"run","cell":"model","code":"print(1)","seq":4}', Run("model", "print(1)", 4)),
        ('{"type":"ping","seq":9}', Ping(9)),
    ],
    ids=["open", "open-without-cells", "slide", "run", "ping"],
)
def test_page_messages_decode_into_their_types(raw: str, expected: Any) -> None:
    assert client_decoder.decode(raw) == expected


@pytest.mark.parametrize("cls", CLIENT_TYPES, ids=tag_of)
def test_every_page_message_round_trips_through_json(cls: type[msgspec.Struct]) -> None:
    msg = instance(cls)
    wire = msgspec.json.encode(msg)
    assert msgspec.json.decode(wire)["type"] == tag_of(cls)
    assert client_decoder.decode(wire) == msg


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "",
        '["slide", {"w": 1}]',
        '{"values": {"w": 1}}',
        '{"type":"shutdown"}',
        '{"type":"figure","plot":"line","figure":{}}',
        '{"type":"ping","seq":1,"extra":true}',
        '{"type":"slide","values":{"w":1},"seq":1,"plot":"line"}',
        '{"type":"slide","values":{"w":"1.5"}}',
        '{"type":"slide","values":{"w":true}}',
        '{"type":"slide","values":{"w":NaN}}',
        '{"type":"slide","values":{"w":1e400}}',
        '{"type":"slide","values":[1, 2]}',
        '{"type":"slide","seq":1}',
        '{"type":"slide","values":{"w":1},"seq":1.5}',
        '{"type":"run","cell":"model"}',
        '{"type":"run","cell":"model","code":42}',
        '{"type":"open","cells":{"model":null}}',
    ],
    ids=[
        "not-json",
        "empty",
        "not-an-object",
        "no-type",
        "unknown-type",
        "server-type-from-page",
        "unknown-field-on-ping",
        "unknown-field-on-slide",
        "value-as-string",
        "value-as-bool",
        "value-nan",
        "value-overflows-float",
        "values-as-list",
        "slide-without-values",
        "seq-not-integer",
        "run-without-code",
        "code-not-string",
        "cell-code-null",
    ],
)
def test_malformed_page_message_is_refused(raw: str) -> None:
    with pytest.raises((msgspec.DecodeError, msgspec.ValidationError)):
        client_decoder.decode(raw)


# ----------------------------------------------------------------------------- server -> page


@pytest.mark.parametrize("cls", SERVER_TYPES, ids=tag_of)
def test_every_server_message_round_trips_through_json(cls: type[msgspec.Struct]) -> None:
    msg = instance(cls)
    wire = server_encoder.encode(msg)
    assert msgspec.json.decode(wire)["type"] == tag_of(cls)
    assert msgspec.json.decode(wire, type=ServerMessage) == msg


@pytest.mark.parametrize("cls", TEACHER_TYPES, ids=tag_of)
def test_every_teacher_message_round_trips_through_json(cls: type[msgspec.Struct]) -> None:
    msg = instance(cls)
    wire = server_encoder.encode(msg)
    assert msgspec.json.decode(wire)["type"] == tag_of(cls)
    assert msgspec.json.decode(wire, type=TeacherMessage) == msg


def test_page_and_server_message_tags_are_unique() -> None:
    for group in (CLIENT_TYPES, SERVER_TYPES, REPLY_TYPES, REQUEST_TYPES, TEACHER_TYPES):
        tags = [tag_of(c) for c in group]
        assert len(tags) == len(set(tags)), tags


def documented_tags(section: str) -> set[str]:
    """Tags in the first column of the table under `## <section>` in docs/protocol.md."""
    text = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    m = re.search(rf"^## {re.escape(section)}\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert m, f"docs/protocol.md has no section '## {section}'"
    return set(re.findall(r"^\|\s*`([a-z_]+)`\s*\|", m.group(1), re.M))


@pytest.mark.parametrize(
    ("section", "types"),
    [
        ("Page → server", CLIENT_TYPES),
        ("Server → page", SERVER_TYPES),
        ("Server → teacher", TEACHER_TYPES),
        ("Web process → kernel", REQUEST_TYPES),
        ("Kernel → web process", REPLY_TYPES),
    ],
    ids=["page-to-server", "server-to-page", "to-teacher", "to-kernel", "from-kernel"],
)
def test_every_message_is_documented_in_the_protocol_page(
    section: str, types: tuple[type[msgspec.Struct], ...]
) -> None:
    documented = documented_tags(section)
    missing = sorted(tag_of(c) for c in types if tag_of(c) not in documented)
    assert not missing, f"docs/protocol.md, '{section}', lacks: {', '.join(missing)}"


# ----------------------------------------------------------------------------- ids


IDS = ["LessonSlug", "CellId", "PlotId", "ExerciseId"]


@pytest.mark.parametrize("name", IDS)
def test_the_lesson_model_uses_the_protocols_ids(name: str) -> None:
    """One definition of each id: a cell id from the model is the type a message carries."""
    assert getattr(app.content.model, name) is getattr(app.protocol, name)


# ----------------------------------------------------------------------------- kernel wire


@pytest.mark.parametrize("cls", REQUEST_TYPES, ids=tag_of)
def test_every_kernel_request_round_trips_through_msgpack(cls: type[msgspec.Struct]) -> None:
    msg = instance(cls)
    assert request_decoder.decode(request_encoder.encode(msg)) == msg


@pytest.mark.parametrize("cls", REPLY_TYPES, ids=tag_of)
def test_every_kernel_reply_round_trips_through_msgpack(cls: type[msgspec.Struct]) -> None:
    msg = instance(cls)
    assert reply_decoder.decode(reply_encoder.encode(msg)) == msg


def test_kernel_reply_carries_arrays_as_shape_and_bytes() -> None:
    reply = KEvaluated(1, {"y": Array([2], b"\x00" * 16)}, {"loss": 0.5}, "")
    assert reply_decoder.decode(reply_encoder.encode(reply)) == reply


@pytest.mark.parametrize(
    ("array", "problem"),
    [
        (Array([2, 3], b"\x00" * 48), ""),
        (Array([], b"\x00" * 8), ""),
        (Array([0, 4], b""), ""),
        (Array([2, 2], b"\x00" * 8), "of shape [2, 2] carries 8 bytes"),
        (Array([-1], b""), "has shape [-1]"),
        (Array([1, 1, 1, 1, 1], b"\x00" * 8), "has shape [1, 1, 1, 1, 1]"),
        (Array([MAX_ARRAY_VALUES + 1], b""), f"more than {MAX_ARRAY_VALUES} values"),
    ],
    ids=["matrix", "scalar", "empty", "short-bytes", "negative", "five-dims", "too-many-values"],
)
def test_one_check_says_what_is_wrong_with_an_array(array: Array, problem: str) -> None:
    found = array.problem()
    assert (found == "") if not problem else (problem in found)


@pytest.mark.parametrize(
    "frame",
    [
        b"",
        b"\xc1",
        b"garbage that is not msgpack",
        msgspec.msgpack.encode(["hello"]),
        msgspec.msgpack.encode(["pickle", b"\x80\x04"]),
        msgspec.msgpack.encode({"type": "hello", "device": "cpu"}),
        msgspec.msgpack.encode(["checked", "1", True, "ok"]),
        msgspec.msgpack.encode(["evaluated", 1, {"y": [[2], "not bytes"]}, {}, ""]),
        msgspec.msgpack.encode(["evaluated", 1, {}, {"loss": "0.5"}, ""]),
        msgspec.msgpack.encode(["exec", 1, "model", "x = 1", 100]),
        msgspec.msgpack.encode(KHello("cpu")) + b"\x00",
    ],
    ids=[
        "empty",
        "reserved-byte",
        "not-msgpack",
        "missing-field",
        "unknown-tag",
        "map-instead-of-array",
        "id-as-string",
        "array-data-not-bytes",
        "scalar-as-string",
        "request-tag-as-reply",
        "trailing-bytes",
    ],
)
def test_kernel_reply_decoding_refuses_garbage(frame: bytes) -> None:
    with pytest.raises((msgspec.DecodeError, msgspec.ValidationError)):
        reply_decoder.decode(frame)
