"""Live widgets for the course notebooks, and recording/replay of what they show.

Every widget watches the cluster in background threads and redraws on the
kernel's event loop; each has ``to_frame()``, ``snapshot()`` and ``close()``,
and can be built offline from a recording (``source="demo.jsonl.gz"``).

Example:
    >>> import course_helpers as ch
    >>> pods = ch.PodsPerNode("demo")  # doctest: +SKIP
    >>> pods  # doctest: +SKIP

"""

from ._base import LiveWidget
from ._cronjobs import CronJobTimeline
from ._events import EventFeed
from ._jobs import JobProgress
from ._node_requests import NodeRequests
from ._pods import PodsPerNode
from ._recording import Recorder
from ._replay import Playback, Replay
from ._revisions import StatefulSetRevisions
from ._services import ServiceEndpoints
from ._snapshot import Snapshot
from ._statefulsets import StatefulSetOrder

__all__ = [
    "CronJobTimeline",
    "EventFeed",
    "JobProgress",
    "LiveWidget",
    "NodeRequests",
    "Playback",
    "PodsPerNode",
    "Recorder",
    "Replay",
    "ServiceEndpoints",
    "Snapshot",
    "StatefulSetOrder",
    "StatefulSetRevisions",
]
