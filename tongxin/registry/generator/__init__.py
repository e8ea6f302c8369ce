"""Synthetic children for the demo and for benchmarks (演示数据): a plausible population of one
county's villages and communities. Every person is made up; nothing here comes from real data.

Two steps:

- ``plan_population`` draws households (家庭) from a seeded ``random.Random``: parents with their
  status, guardianship capacity and migration spells, the daily caregiver, the care agreement,
  and one to three children each, with names, valid ID numbers (GB 11643 check characters),
  schooling, disability and illness. Plans are plain data, so the same seed gives the same
  population. Some children are planted twice, as near-duplicates for the review queue: the
  same name and birth date in another village of the same town, or a name with the same pinyin
  written with other characters and the same birth date. The copy is registered without an ID
  number (the usual way one child gets two files), so no number is shared.
- ``population_generate`` writes the plans straight to the tables in batches (``bulk_create``,
  one transaction per batch), without per-child services: the categories and their history are
  computed here with ``rules.classify`` and ``rules.category_history`` from the generated facts
  (a single version of the facts, recorded on the registration date), and ID numbers are
  encrypted and hashed as ``services.id_number_prepare`` does. Each row also gets its creation
  record in the history tables (simple-history), dated on the registration day, so that a
  generated file reads like one registered through the services on that day: later edits and
  ``services.category_history_rebuild`` find a first version to start from.

Shares (of children; the tests check loose bounds): about 55% left behind, 1% orphans, 2% de facto
unsupported, 12% of dibao families, 3% disabled, 2% seriously ill, 8% single-parent; 5% without an
ID number. Migration work places are drawn for a county in Gansu.

The modules: the vocabularies that names and places are drawn from (``words``), the plans as
plain data (``plans``), the draws (``planner``), the fast bulk inserts (``inserts``) and the
writing of a county's population (``write``).
"""

from tongxin.registry.generator.planner import plan_population
from tongxin.registry.generator.plans import HouseholdPlan
from tongxin.registry.generator.words import BOY_CHARS, GIRL_CHARS, SURNAMES
from tongxin.registry.generator.write import (
    BATCH,
    DEFAULT_CHILDREN,
    DEMO_SEED,
    GenerationReport,
    Progress,
    county_places,
    population_generate,
)

__all__ = [
    "BATCH",
    "BOY_CHARS",
    "DEFAULT_CHILDREN",
    "DEMO_SEED",
    "GIRL_CHARS",
    "SURNAMES",
    "GenerationReport",
    "HouseholdPlan",
    "Progress",
    "county_places",
    "plan_population",
    "population_generate",
]
