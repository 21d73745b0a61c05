"""ServiceEndpoints: Services beside their EndpointSlices, one row per endpoint.

A normal Service shows its virtual IP (``spec.clusterIP``), a headless one
``None``; under each, the endpoints the EndpointSlice controller listed for it:
address, readiness, ``hostname`` and the pod it points at (``targetRef``). The
per-pod DNS name a headless Service's endpoint gets, while it is ready and has a
hostname, is shown beside it (CoreDNS builds those names from these slices).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Unpack

import pandas as pd

from ..kube._objects import labels_of, meta, name_of
from ..kube._watch import WatchEvent
from ._base import WatchSpec, WidgetOptions
from ._palette import CELL_CSS, HEAD_CSS, OKABE_ITO, TABLE_CSS, escape, marked
from ._table_view import HtmlTableView

SERVICE_LABEL = "kubernetes.io/service-name"
FRAME_COLUMNS = [
    "service",
    "cluster_ip",
    "slice",
    "address",
    "ready",
    "terminating",
    "hostname",
    "pod",
    "node",
    "dns_name",
]


class ServiceEndpoints(HtmlTableView):
    """Services and their EndpointSlices, live: the virtual IP against one row per pod.

    Args:
        services: a Service's name, or a list of names (shown in that order).
        namespace: their namespace.
        **options: as for every widget (``source``, ``recorder``, ...; see ``LiveWidget``).

    Example:
        >>> view = ServiceEndpoints(["web-lb", "web"], "demo")  # doctest: +SKIP
        >>> view.to_frame()[["service", "cluster_ip", "hostname", "pod"]]  # doctest: +SKIP

    Raises:
        ValueError: no Service name was given.

    """

    def __init__(
        self,
        services: str | Sequence[str],
        namespace: str | None = None,
        **options: Unpack[WidgetOptions],
    ) -> None:
        names = [services] if isinstance(services, str) else list(dict.fromkeys(services))
        if not names:
            raise ValueError("ServiceEndpoints needs the name of at least one Service.")
        self.services: tuple[str, ...] = tuple(names)
        super().__init__(namespace=namespace, **options)

    def _specs(self) -> list[WatchSpec]:
        return [WatchSpec("Service", self.namespace), WatchSpec("EndpointSlice", self.namespace)]

    def _accepts(self, event: WatchEvent) -> bool:
        if self.namespace and meta(event.object).get("namespace") != self.namespace:
            return False
        if event.kind == "Service":
            return event.name in self.services
        if event.kind == "EndpointSlice":
            return labels_of(event.object).get(SERVICE_LABEL) in self.services
        return False

    # -- what is shown ---------------------------------------------------------------------

    def cluster_ip(self, service: str) -> str | None:
        """Return the Service's ``spec.clusterIP`` as last seen (``"None"``: headless)."""
        for svc in self.items("Service"):
            if name_of(svc) == service:
                return str((svc.get("spec") or {}).get("clusterIP") or "")
        return None

    def to_frame(self) -> pd.DataFrame:
        """Return one row per endpoint, Service by Service (a Service without any: one row)."""
        rows: list[dict[str, Any]] = []
        namespace = self.namespace or ""
        for service in self.services:
            cluster_ip = self.cluster_ip(service)
            headless = cluster_ip == "None"
            mine: list[dict[str, Any]] = []
            for piece in self.items("EndpointSlice"):
                if labels_of(piece).get(SERVICE_LABEL) != service:
                    continue
                for endpoint in piece.get("endpoints") or []:
                    conditions = endpoint.get("conditions") or {}
                    ready = conditions.get("ready") is not False  # unset means ready
                    hostname = str(endpoint.get("hostname") or "")
                    mine.append(
                        {
                            "service": service,
                            "cluster_ip": cluster_ip,
                            "slice": name_of(piece),
                            "address": (endpoint.get("addresses") or [""])[0],
                            "ready": ready,
                            "terminating": bool(conditions.get("terminating")),
                            "hostname": hostname,
                            "pod": str((endpoint.get("targetRef") or {}).get("name") or ""),
                            "node": str(endpoint.get("nodeName") or ""),
                            "dns_name": f"{hostname}.{service}.{namespace}.svc.cluster.local"
                            if headless and hostname and ready
                            else "",
                        }
                    )
            mine.sort(key=lambda r: (r["pod"], r["address"]))
            rows += mine or [{"service": service, "cluster_ip": cluster_ip}]
        return pd.DataFrame(rows, columns=FRAME_COLUMNS)

    def _summary(self) -> str:
        frame = self.to_frame()
        listed = frame[frame["address"].notna()]
        return f"{len(self.services)} Services, {len(listed)} endpoints"

    # -- drawing -------------------------------------------------------------------------

    def _render(self) -> None:
        self.table.value = self._table_html()

    def _snapshot_html(self) -> str:
        return self._table_html()

    def _table_html(self) -> str:
        rows = []
        for row in self.to_frame().to_dict("records"):
            ip = row["cluster_ip"]
            if not isinstance(ip, str):  # None, or NaN in the frame
                kind = "not seen yet"
            elif ip == "None":
                kind = "None (headless)"
            else:
                kind = f"{ip} (virtual IP)"
            listed = isinstance(row["address"], str)
            state = ""
            if listed:
                colour = OKABE_ITO["bluish_green"] if row["ready"] else OKABE_ITO["vermillion"]
                text = "✓ ready" if row["ready"] else "✗ not ready"
                text += ", terminating" if row["terminating"] else ""
                state = marked(escape(text), colour)
            cells = [
                escape(row["service"]),
                escape(kind),
                escape(row["address"] if listed else "no endpoints"),
                state,
                escape(row["pod"] if listed else ""),
            ]
            top = "".join(f'<td style="{_TOP_CSS}">{c}</td>' for c in cells)
            # The pod's hostname and the DNS name it gives it, on a line of their own:
            # beside the rest, at 1024 pixels, the table ran past its output area.
            names = []
            if listed and row["hostname"]:
                names.append(f"hostname {escape(row['hostname'])}")
            if listed and row["dns_name"]:
                names.append(f"per-pod DNS name <b>{escape(row['dns_name'])}</b>")
            under = (
                f'<tr><td style="{CELL_CSS}"></td><td colspan="{len(COLUMNS) - 1}" '
                f'style="{_UNDER_CSS}">{" · ".join(names)}</td></tr>'
                if names
                else ""
            )
            line = "" if names else f";{_LINE}"
            top = top.replace(f'style="{_TOP_CSS}"', f'style="{_TOP_CSS}{line}"')
            rows.append(f"<tbody><tr>{top}</tr>{under}</tbody>")
        head = "".join(f'<th style="{HEAD_CSS}">{c}</th>' for c in COLUMNS)
        table = f'<table style="{TABLE_CSS}"><thead><tr>{head}</tr></thead>{"".join(rows)}</table>'
        aria = 'role="region" aria-label="Services and their endpoints"'
        return f'<div class="course-services" {aria}>{table}</div>'


#: The table's columns; an endpoint's hostname and per-pod DNS name go on a line below.
COLUMNS = ("service", "clusterIP", "endpoint", "state", "targetRef")
_LINE = "border-bottom:1px solid var(--jp-border-color2, #e0e0e0)"
_TOP_CSS = "padding:2px 8px;text-align:left;vertical-align:top;white-space:nowrap;line-height:1.4"
_UNDER_CSS = f"{CELL_CSS};padding-top:0;overflow-wrap:anywhere;line-height:1.4"
