"""What the quiz tells the layers above about a scored attempt, inside its transaction.

assessments may not import analytics (the layers in pyproject.toml), yet the analytics'
aggregates must change in the same transaction as the marks they sum, so that they can
never drift from them. The services send these signals while the attempt's row is locked;
analytics' AppConfig.ready connects its receivers. A deletion needs no signal of ours:
Django's pre_delete and post_delete on Attempt fire for cascades too.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent after an attempt was scored: submitted (by its learner or the overdue sweep) or
# re-scored. Arguments: attempt_id, rescored (False when it was just submitted).
attempt_scored = Signal()

# Sent before a submitted attempt's marks change (a code slot's verdict re-scores it).
# Argument: attempt_id.
attempt_rescoring = Signal()
