from django.db import migrations, models


class Migration(migrations.Migration):
    """Roles in the database: platform staff have no tenant, tenant staff one; is_staff is exactly
    "platform staff"; only a super_admin is a Django superuser (DESIGN §4.6)."""

    dependencies = [
        ('accounts', '0005_user_role'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='user',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('is_staff', False), ('role', '')), models.Q(('is_staff', True), ('role__in', ('super_admin', 'admin', 'support')), ('tenant__isnull', True)), models.Q(('is_staff', False), ('role__in', ('tenant_admin', 'tenant_staff')), ('tenant__isnull', False)), _connector='OR'), name='user_role_matches_tenant_and_staff'),
        ),
        migrations.AddConstraint(
            model_name='user',
            constraint=models.CheckConstraint(condition=models.Q(('is_superuser', False), ('role', 'super_admin'), _connector='OR'), name='user_superuser_is_super_admin'),
        ),
    ]
