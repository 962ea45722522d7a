"""Following the same pupils over the years: identification codes, linking, match reports.

:mod:`.codes` keeps each pupil's self-generated identification code as keyed digests;
:mod:`.linking` links a wave's pupils to their previous wave's and stores the match report.
"""
