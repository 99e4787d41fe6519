"""Wipe: profiles, planner, overwrite, verify, firmware erase, engine.

Public entry points: `bench.wipe.engine.Engine`, `bench.wipe.plan.make_plan`,
`bench.wipe.profiles.load` / `list_profiles`. Events: `bench.wipe.result`.
"""
