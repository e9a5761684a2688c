"""Every message between browser, web process and kernel, each a typed, tagged struct.

Three wires share this module:

* the page's WebSocket carries JSON; `ClientMessage` is what a page may send and
  `ServerMessage` what it receives;
* the teacher's class landscape socket carries JSON; `TeacherMessage` is what it receives;
* a kernel's channel carries length-prefixed msgpack frames; `KernelRequest` is what the web
  process asks and `KernelReply` what a kernel may answer. The web process decodes replies
  strictly into these types and never trusts a value it did not check.

The ids every layer passes around are defined here once, as `NewType`s, so that a cell id cannot
be handed where a plot id belongs; the lesson model and the classroom use these same types.

One module per wire (`page`, `teacher`, `kernel`, `zygote`) and one for the ids; everything is
importable from `app.protocol` itself. docs/protocol.md describes the same messages for people.
"""

from __future__ import annotations

from app.protocol.ids import (
    CellId,
    ExerciseId,
    LearnerId,
    LessonSlug,
    PlotId,
    RoomId,
)
from app.protocol.kernel import (
    MAX_ARRAY_DIMS,
    MAX_ARRAY_VALUES,
    Array,
    KCheck,
    KChecked,
    KernelReply,
    KernelRequest,
    KEvaluate,
    KEvaluated,
    KEvaluatedMany,
    KEvaluateMany,
    KExec,
    KExecDone,
    KFailed,
    KHello,
    KProgress,
    KTrain,
    reply_decoder,
    reply_encoder,
    request_decoder,
    request_encoder,
)
from app.protocol.page import (
    Check,
    CheckResult,
    ClientMessage,
    ErrorMsg,
    FigureMsg,
    Interrupt,
    Open,
    Output,
    PatchMsg,
    Ping,
    PlotProblem,
    Pong,
    Progress,
    Ready,
    Restart,
    Run,
    ServerMessage,
    Slide,
    Status,
    Train,
    TrainState,
    client_decoder,
    server_encoder,
)
from app.protocol.teacher import (
    LandscapePoints,
    LandscapeSurface,
    Surface,
    TeacherMessage,
)
from app.protocol.zygote import (
    Allowance,
    Limits,
    ZExited,
    ZReady,
    ZSignal,
    ZSpawn,
    ZSpawned,
    ZygoteEvent,
    ZygoteRequest,
    zygote_event_decoder,
    zygote_request_decoder,
)

__all__ = [
    "MAX_ARRAY_DIMS",
    "MAX_ARRAY_VALUES",
    "Allowance",
    "Array",
    "CellId",
    "Check",
    "CheckResult",
    "ClientMessage",
    "ErrorMsg",
    "ExerciseId",
    "FigureMsg",
    "Interrupt",
    "KCheck",
    "KChecked",
    "KEvaluate",
    "KEvaluateMany",
    "KEvaluated",
    "KEvaluatedMany",
    "KExec",
    "KExecDone",
    "KFailed",
    "KHello",
    "KProgress",
    "KTrain",
    "KernelReply",
    "KernelRequest",
    "LandscapePoints",
    "LandscapeSurface",
    "LearnerId",
    "LessonSlug",
    "Limits",
    "Open",
    "Output",
    "PatchMsg",
    "Ping",
    "PlotId",
    "PlotProblem",
    "Pong",
    "Progress",
    "Ready",
    "Restart",
    "RoomId",
    "Run",
    "ServerMessage",
    "Slide",
    "Status",
    "Surface",
    "TeacherMessage",
    "Train",
    "TrainState",
    "ZExited",
    "ZReady",
    "ZSignal",
    "ZSpawn",
    "ZSpawned",
    "ZygoteEvent",
    "ZygoteRequest",
    "client_decoder",
    "reply_decoder",
    "reply_encoder",
    "request_decoder",
    "request_encoder",
    "server_encoder",
    "zygote_event_decoder",
    "zygote_request_decoder",
]
