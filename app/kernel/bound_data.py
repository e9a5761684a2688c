"""The learner's own data inside their kernel: parsed there from the file's bytes (so an
untrusted file is only ever read inside the sandbox), bound in the learner's namespace in the
shape the lesson declared, and bound again after every later Run, so that the lesson's own
`data = [...]` in a cell does not undo it until the learner goes back to the lesson's data."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.kernel.dataset import DataError, as_shape, parse
from app.plots.data_range import OWN_DATA
from app.protocol import KData, KDataDone, KernelReply


def normalised_csv(data: np.ndarray, columns: list[str]) -> str:
    """The parsed numbers as plain CSV: a header of the declared columns, then one row per
    line, each number written so that it reads back as the same float (`repr`)."""
    lines = [",".join(columns)]
    lines.extend(",".join(repr(float(v)) for v in row) for row in data)
    return "\n".join(lines) + "\n"


class BoundData:
    """The dataset a kernel keeps bound, or none (the lesson's own data)."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.values: dict[str, Any] = {}

    def rebind(self, ns: dict[str, Any]) -> None:
        """After a Run: the learner's data again, in fresh copies (a cell may have changed
        the old ones in place)."""
        for name, value in self.fresh().items():
            ns[name] = value
        if self.values:
            ns[OWN_DATA] = list(self.values["vars"])

    def fresh(self) -> dict[str, Any]:
        if not self.values:
            return {}
        data, variables, shape = self.values["array"], self.values["vars"], self.values["shape"]
        return bind(data, variables, shape, self.device)

    def handle(self, ns: dict[str, Any], req: KData) -> KernelReply:
        if req.reset:
            self.values = {}
            ns.pop(OWN_DATA, None)
            return KDataDone(req.id, True, "Back to the lesson's data.")
        try:
            data, header = parse(req.raw, req.columns, req.max_rows, req.max_bytes)
            bound = bind(data, req.variables, req.shape, self.device)
        except DataError as err:
            return KDataDone(req.id, False, str(err)[:2000])
        except MemoryError:
            return KDataDone(req.id, False, "This file is too large for your kernel's memory.")
        self.values = {"array": data, "vars": list(req.variables), "shape": req.shape}
        ns.update(bound)
        ns[OWN_DATA] = list(req.variables)
        ranges = {
            name: [float(data[:, i].min()), float(data[:, i].max())]
            for i, name in enumerate(req.columns)
        }
        rows = len(data)
        words = f"Your data: {rows:,} row{'s' * (rows != 1)}" + (
            " (row 1 was a header)." if header else "."
        )
        csv = normalised_csv(data, list(req.columns))
        return KDataDone(req.id, True, words, rows, header, ranges, csv)


def bind(data: np.ndarray, variables: list[str], shape: str, device: str) -> dict[str, Any]:
    """Variable name -> value: one variable of pairs, or one variable per column."""
    value = as_shape(data, shape, device)
    if shape == "pairs":
        if len(variables) != 1:
            raise DataError("this lesson declares pairs in more than one variable")
        return {variables[0]: value}
    if len(variables) != data.shape[1]:
        raise DataError("this lesson declares a different number of variables than columns")
    return dict(zip(variables, value, strict=True))
