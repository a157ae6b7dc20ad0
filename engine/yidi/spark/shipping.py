"""The policy set travels to Spark's executors once per job, and each checks its revision.

Two ways, one check:

* shipped (the default): the driver reads the tree's policy files — what the
  revision hashes, a few hundred kilobytes — and broadcasts them with the
  revision it loaded. Each executor process writes them to a private temporary
  folder once and compiles them there (or reads its compiled cache), so no
  executor needs the files on its disk;
* on the executors: `executor_path` names a folder every executor has (the
  tree inside the installed wheel, or one Spark distributes with `--archives`).

Either way the executor compares the revision it loaded with the driver's and
refuses to decide anything with another: a `RevisionMismatch` fails the job
with both revisions named. Rows are never decided by a policy set the driver
did not check — and a wrong deployment is not worth a table of error rows.
"""

from __future__ import annotations

import dataclasses
import pathlib
import tempfile

from ..engine import Engine
from ..policy.tree import find_policy_files

MISMATCH = "yidi-revision-mismatch"   # in the message, so the driver can recognise it inside Spark's error


class RevisionMismatch(RuntimeError):
    """An executor loaded another revision of the policies than the driver checked."""

    def __init__(self, expected: str, found: str, where: str):
        self.expected, self.found, self.where = expected, found, where
        super().__init__(f"{MISMATCH}: the executor loaded revision {found} from {where}, "
                         f"the driver checked {expected} / 执行器加载的政策版本 {found}（{where}）与驱动程序检查的 {expected} 不同")


@dataclasses.dataclass(frozen=True)
class Shipment:
    """What every executor needs to build the driver's engine: the files (or where to find them) and the revision."""

    revision: str
    root_name: str                                    # file names in messages and the revision start with it
    files: tuple[tuple[str, bytes], ...] = ()         # (path relative to the tree, contents)
    executor_path: str | None = None                  # load from here instead of `files`


def pack(engine: Engine, root: pathlib.Path, executor_path: str | None = None) -> Shipment:
    """The shipment of `engine`, loaded on the driver from `root`."""
    root = pathlib.Path(root)
    if executor_path is not None:
        return Shipment(engine.revision, root.resolve().name, executor_path=executor_path)
    files = tuple((path.relative_to(root).as_posix(), path.read_bytes()) for path in find_policy_files(root))
    return Shipment(engine.revision, root.resolve().name, files)


# One engine per executor process and revision: Python workers are reused across tasks.
_ENGINES: dict[tuple[str, str | None], Engine] = {}


def engine_for(shipment: Shipment) -> Engine:
    """The executor's engine for `shipment`: built once per process; RevisionMismatch if not the driver's revision."""
    key = (shipment.revision, shipment.executor_path)
    engine = _ENGINES.get(key)
    if engine is not None:
        return engine
    if shipment.executor_path is not None:
        where = shipment.executor_path
        engine = Engine.load(where, cache=True)
    else:
        folder = pathlib.Path(tempfile.mkdtemp(prefix="yidi-spark-")) / shipment.root_name
        for name, data in shipment.files:
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        where = "the driver's shipment"
        engine = Engine.load(folder, cache=True)
    if engine.revision != shipment.revision:
        raise RevisionMismatch(shipment.revision, engine.revision, where)
    _ENGINES[key] = engine
    return engine
