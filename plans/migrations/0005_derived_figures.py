"""Derived figures can no longer disagree with what they derive from (issue 10, item 8):

- a stored quarterly price is at most three monthly prices (empty still means 3 × monthly);
- on PostgreSQL, `limits.pricePerMinute` (rupees) equals `limits.pricePerMinutePaise` / 100 and a
  token plan's `limits.tokens` equals its `token_allowance`, when both are there.

Rows that disagree today are put right first, from the source figure: a quarterly price above
three months is cleared (it becomes 3 × monthly), the rupee price per minute is recomputed from
the paise one, and `limits.tokens` from the allowance.
"""

from decimal import ROUND_HALF_UP, Decimal

import django.db.models.expressions
from django.db import migrations, models

JSON_CHECKS = """
ALTER TABLE plans_rateplan ADD CONSTRAINT rateplan_price_per_minute_agrees CHECK (
    CASE WHEN jsonb_typeof(limits -> 'pricePerMinute') = 'number'
              AND jsonb_typeof(limits -> 'pricePerMinutePaise') = 'number'
         THEN (limits ->> 'pricePerMinute')::numeric * 100 = (limits ->> 'pricePerMinutePaise')::numeric
         ELSE TRUE END);
ALTER TABLE plans_rateplan ADD CONSTRAINT rateplan_tokens_limit_agrees CHECK (
    CASE WHEN product = 'tokens' AND limits ? 'tokens'
         THEN limits -> 'tokens' = to_jsonb(token_allowance)
         ELSE TRUE END);
"""

DROP_JSON_CHECKS = """
ALTER TABLE plans_rateplan DROP CONSTRAINT IF EXISTS rateplan_price_per_minute_agrees;
ALTER TABLE plans_rateplan DROP CONSTRAINT IF EXISTS rateplan_tokens_limit_agrees;
"""


def put_right(apps, schema_editor):
    RatePlan = apps.get_model("plans", "RatePlan")
    for plan in RatePlan.objects.all():
        changed = []
        if plan.quarterly_price_paise is not None and plan.quarterly_price_paise > 3 * plan.monthly_price_paise:
            plan.quarterly_price_paise = None
            changed.append("quarterly_price_paise")
        limits = plan.limits if isinstance(plan.limits, dict) else None
        if limits is not None:
            exact = limits.get("pricePerMinutePaise")
            if "pricePerMinute" in limits and isinstance(exact, int) and not isinstance(exact, bool):
                rupees = float((Decimal(exact) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
                if limits["pricePerMinute"] != rupees:
                    limits["pricePerMinute"] = rupees
                    changed.append("limits")
            if plan.product == "tokens" and "tokens" in limits and limits["tokens"] != plan.token_allowance:
                limits["tokens"] = plan.token_allowance
                changed.append("limits")
        if changed:
            plan.save(update_fields=sorted(set(changed)))


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(JSON_CHECKS, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_JSON_CHECKS, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('plans', '0004_field_rules'),
    ]

    operations = [
        migrations.RunPython(put_right, migrations.RunPython.noop, elidable=False),
        migrations.AddConstraint(
            model_name='rateplan',
            constraint=models.CheckConstraint(condition=models.Q(('quarterly_price_paise__isnull', True), ('quarterly_price_paise__lte', django.db.models.expressions.CombinedExpression(models.F('monthly_price_paise'), '*', models.Value(3))), _connector='OR'), name='rateplan_quarterly_at_most_three_months'),
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
