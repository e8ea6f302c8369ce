"""Template tags of the panel registry: the sections other apps add to the child's file."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from tongxin.core import panels

register = template.Library()


@register.simple_tag(takes_context=True)
def child_sections(context: template.Context, child: Any, user: Any) -> SafeString:
    """Each registered section of the child's file, rendered in order, one per line, as an
    inclusion tag renders its template: a new context from the section's values, on the page's
    settings, with the page's CSRF token."""
    assert context.template is not None
    engine = context.template.engine
    csrf_token = context.get("csrf_token")
    html = []
    for name, values in panels.child_sections(child, user):
        section = context.new(values)
        if csrf_token is not None:
            section["csrf_token"] = csrf_token
        html.append(engine.get_template(name).render(section))
    return mark_safe("\n".join(html))  # noqa: S308  (each part rendered by its own template)
