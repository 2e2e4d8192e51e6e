"""Places where one app shows a piece of another app's page, without importing it.

Two registries:

* ``dashboard``: panels on the staff dashboard. ``fn(request) -> (template, context) | None``
* ``contact_page``: sections on a contact's page. ``fn(request, contact) -> (template, context) | None``

Register from your AppConfig.ready()::

    from akkoord.lib.panels import dashboard, contact_page
    dashboard.register(my_panel)

Rendering pages call ``registry.render(request, *args)`` and get a list of HTML strings.
"""

from collections.abc import Callable

from django.template.loader import render_to_string


class PanelRegistry:
    def __init__(self, name: str):
        self.name = name
        self._panels: list[Callable] = []

    def register(self, fn: Callable) -> Callable:
        if fn not in self._panels:
            self._panels.append(fn)
        return fn

    def render(self, request, *args) -> list[str]:
        parts = []
        for panel in self._panels:
            result = panel(request, *args)
            if result is None:
                continue
            template, context = result
            parts.append(render_to_string(template, context, request=request))
        return parts


dashboard = PanelRegistry("dashboard")
contact_page = PanelRegistry("contact_page")
