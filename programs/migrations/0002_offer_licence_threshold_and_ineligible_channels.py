"""R-ELIG-2 and R-ELIG-3, round 2: CSP is a licensing channel that programs refuse, and the
prior-licence threshold applies only to the offers whose data says so.

Programs loaded before these fields existed get the FAQ's answer: CSP deals are refused,
and the offer whose cap is its part of the combined table (Copilot) has no threshold.
The loader sets both from the program file on the next load."""

import programs.models
from django.db import migrations, models


def existing_programs_follow_the_faq(apps, schema_editor):
    apps.get_model("programs", "Program").objects.update(ineligible_licensing_channels=["csp"])
    apps.get_model("programs", "Offer").objects.filter(cap_source="combined").update(
        prior_licence_threshold=False
    )


class Migration(migrations.Migration):

    dependencies = [
        ('programs', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='offer',
            name='prior_licence_threshold',
            field=models.BooleanField(default=True, help_text="The segment's prior M365 E3 licence threshold applies (R-ELIG-3); the Copilot offer has none."),
        ),
        migrations.AddField(
            model_name='program',
            name='ineligible_licensing_channels',
            field=models.JSONField(blank=True, default=list, help_text='Deals licensed through these channels are refused (R-ELIG-2), e.g. ["csp"].', validators=[programs.models._validate_str_list]),
        ),
        migrations.RunPython(existing_programs_follow_the_faq, migrations.RunPython.noop),
    ]
