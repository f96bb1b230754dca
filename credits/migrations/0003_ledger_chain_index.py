# The wallet's chain index covers what audit_ledger reads (issue 16): built before the old one goes.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('credits', '0002_ledger_append_only'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='credittransaction',
            index=models.Index(fields=['wallet', '-id'], include=('action', 'credits', 'balance_after'), name='credit_txn_wallet_chain'),
        ),
        migrations.RemoveIndex(
            model_name='credittransaction',
            name='credit_txn_wallet_recent',
        ),
    ]
