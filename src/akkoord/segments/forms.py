"""Staff forms: segments, product categories, and the tags of one contact."""

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from akkoord.contacts.models import ProductCategory
from akkoord.segments.conditions import SegmentError, validate
from akkoord.segments.models import Segment

EXAMPLE = {
    "match": "all",
    "conditions": [
        {"field": "language", "op": "equals", "value": "en"},
        {"field": "purchase", "op": "has", "value": {"categories": ["bicycles"], "min_count": 1}},
    ],
}


class SegmentForm(forms.ModelForm):
    definition = forms.CharField(
        label=_("Conditions"),
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}),
        help_text=_(
            'A group: {"match": "all" or "any", "conditions": [...]}; each condition is a group '
            'again or {"field", "op", "value"}. The fields and tests are listed below.'
        ),
    )

    class Meta:
        model = Segment
        fields = ["name", "definition"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        definition = self.instance.definition if self.instance.pk else EXAMPLE
        self.initial["definition"] = json.dumps(definition, indent=2, ensure_ascii=False)

    def clean_definition(self):
        try:
            definition = json.loads(self.cleaned_data["definition"])
        except ValueError as error:
            raise forms.ValidationError(
                _("This is not valid JSON: %(error)s") % {"error": error}
            ) from None
        try:
            validate(definition)
        except SegmentError as error:
            raise forms.ValidationError(str(error)) from None
        return definition


class ProductCategoryForm(forms.ModelForm):
    class Meta:
        model = ProductCategory
        fields = ["key", "name_nl", "name_en", "similar_to"]
        widgets = {"similar_to": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        others = ProductCategory.objects.all()
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        self.fields["similar_to"].queryset = others
        self.fields["similar_to"].help_text = _(
            "Every category is similar to itself. A campaign about one of these categories may "
            "also reach customers who bought in this one (and the other way round)."
        )


class TagsForm(forms.Form):
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=1000,
        help_text=_("Separate tags with commas."),
    )

    def clean_tags(self):
        names = [name.strip() for name in self.cleaned_data["tags"].split(",") if name.strip()]
        too_long = [name for name in names if len(name) > 50]
        if too_long:
            raise forms.ValidationError(_("A tag has at most 50 characters."))
        return sorted(set(names))
