"""The judge's :class:`~llmassert.Model`: every call it makes is a judge call
(``Response.purpose == "judge"``) and is counted in the judge totals of the run's summary,
whether a check or the ``llm_judge`` fixture's user made it."""

from __future__ import annotations

from copy import copy
from typing import Any

from llmassert._judge import _stats
from llmassert._models._model import Model, Prompt
from llmassert._response import Response

__all__ = ["JudgeModel"]


class JudgeModel(Model):
    """A model whose calls are judge calls."""

    purpose = "judge"

    @classmethod
    def like(cls, model: Model) -> JudgeModel:
        """The same model (spec, endpoint, interceptors, budget) as a judge; ``model`` itself is
        left as it was."""
        mine = copy(model)
        return cls.make(mine)

    @classmethod
    def make(cls, model: Model) -> JudgeModel:
        """``model`` itself, turned into a judge (no copy)."""
        model.__class__ = cls
        model.purpose = "judge"
        return model  # type: ignore[return-value]

    def complete(self, prompt: Prompt, **params: Any) -> Response:
        __tracebackhide__ = True
        response = super().complete(prompt, **params)
        _stats.note(response)
        return response

    async def acomplete(self, prompt: Prompt, **params: Any) -> Response:
        __tracebackhide__ = True
        response = await super().acomplete(prompt, **params)
        _stats.note(response)
        return response
