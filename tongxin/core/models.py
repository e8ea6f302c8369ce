"""The foundation's one table: the data generation (``tongxin.core.generation``)."""

from __future__ import annotations

from django.db import models


class DataGeneration(models.Model):
    """One row: a counter that moves after every transaction that changed the county's data.
    Written and read only by ``tongxin.core.generation``, below the ORM."""

    value = models.BigIntegerField(default=0)

    class Meta:
        db_table = "core_datageneration"

    def __str__(self) -> str:
        return str(self.value)
