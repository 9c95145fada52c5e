"""The run's log: ``log.jsonl`` and ``log.csv`` in the run directory, kept in step with a
resumed run."""

import json
import math


class RunLog:
    """``log.jsonl`` (one JSON object per record) and ``log.csv`` (the same records, one column
    per name), created with the first record. Reopening for a resumed run keeps only the
    records up to its step, less an evaluation at that step when it is to be done again
    (``evaluate_again``)."""

    def __init__(self, out, keep_until=0, evaluate_again=False):
        self.jsonl, self.csv = out / "log.jsonl", out / "log.csv"
        self.records = []
        self.columns = ["step", "kind", "time_s"]
        if not keep_until:
            return
        if self.jsonl.exists():
            lines = self.jsonl.read_text().splitlines()
            self.records = [r for r in map(json.loads, lines) if r["step"] < keep_until or (
                r["step"] == keep_until and not (evaluate_again and r["kind"] == "eval"))]
        for record in self.records:
            self.columns += [k for k in record if k not in self.columns]
        self.jsonl.write_text("".join(json.dumps(r) + "\n" for r in self.records))
        self._rewrite_csv()

    def write(self, step, kind, time_s, values):
        record = dict(step=step, kind=kind, time_s=round(time_s, 3), **values)
        self.records.append(record)
        with open(self.jsonl, "a") as f:
            f.write(json.dumps(record) + "\n")
        new = [k for k in record if k not in self.columns]
        if new:                                  # a new column: the header changes
            self.columns += new
            self._rewrite_csv()
        else:
            with open(self.csv, "a") as f:
                f.write(self._row(record))

    def _row(self, record):
        return ",".join(_cell(record.get(k)) for k in self.columns) + "\n"

    def _rewrite_csv(self):
        self.csv.write_text(",".join(self.columns) + "\n"
                            + "".join(self._row(r) for r in self.records))


def _cell(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return repr(value) if isinstance(value, float) else str(value)
