"""Staff pages: segments (with a count while editing), product categories, a contact's tags."""

import json

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from akkoord.accounts.decorators import staff_required
from akkoord.contacts.models import Contact, ProductCategory
from akkoord.segments import services
from akkoord.segments.conditions import SegmentError
from akkoord.segments.forms import ProductCategoryForm, SegmentForm, TagsForm
from akkoord.segments.models import Segment


@staff_required
def segment_list(request):
    segments = Segment.objects.all()
    return render(request, "segments/list.html", {"segments": segments})


@require_http_methods(["GET", "POST"])
@staff_required(change=True)
def segment_edit(request, pk=None):
    """Create or change a segment; the Count button shows the number without saving."""
    segment = get_object_or_404(Segment, pk=pk) if pk else Segment()
    form = SegmentForm(request.POST or None, instance=segment)
    counted = None
    if request.method == "POST" and form.is_valid():
        if "count" in request.POST:
            counted = services.count(form.cleaned_data["definition"])
        else:
            form.save()
            messages.success(request, _("The segment was saved."))
            return redirect("segments:edit", form.instance.pk)
    elif segment.pk and request.method == "GET":
        counted = services.count(segment.definition)
    return render(
        request, "segments/edit.html", {"form": form, "segment": segment, "counted": counted}
    )


@require_POST
@staff_required
def segment_count(request):
    """The live count for the editor's script: JSON in, ``{"count"}`` or ``{"error"}`` out."""
    try:
        definition = json.loads(request.body or b"null")
        return JsonResponse({"count": services.count(definition)})
    except (ValueError, SegmentError) as error:
        message = str(error) if isinstance(error, SegmentError) else _("This is not valid JSON.")
        return JsonResponse({"error": message}, status=400)


@staff_required
def category_list(request):
    categories = ProductCategory.objects.prefetch_related("similar_to")
    return render(request, "segments/categories.html", {"categories": categories})


@require_http_methods(["GET", "POST"])
@staff_required(change=True)
def category_edit(request, pk=None):
    category = get_object_or_404(ProductCategory, pk=pk) if pk else ProductCategory()
    form = ProductCategoryForm(request.POST or None, instance=category)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("The product category was saved."))
        return redirect("segments:categories")
    return render(request, "segments/category_edit.html", {"form": form, "category": category})


@require_http_methods(["GET", "POST"])
@staff_required(change=True)
def contact_tags(request, pk):
    contact = get_object_or_404(Contact, pk=pk)
    current = ", ".join(contact.tags.values_list("name", flat=True))
    form = TagsForm(request.POST or None, initial={"tags": current})
    if request.method == "POST" and form.is_valid():
        services.set_tags(contact, form.cleaned_data["tags"], actor=request.user.email)
        messages.success(request, _("The tags were saved."))
        return redirect("contacts:detail", pk=contact.pk)
    return render(request, "segments/tags.html", {"form": form, "contact": contact})
