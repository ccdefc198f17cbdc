"""Query-parameter filters of the public anime list (django-filter), validated strictly."""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from catalog.models import Anime, Genre, Studio

# ASCII digits only ("²".isdigit() is true) and within a bigint.
_ID = re.compile(r"[0-9]{1,18}")


def _by_slug_or_id(value: str) -> Q:
    return Q(id=int(value)) if _ID.fullmatch(value) else Q(slug=value.lower())


class AnimeFilterSet(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=Anime.Kind.choices)
    status = django_filters.MultipleChoiceFilter(choices=Anime.Status.choices)
    season = django_filters.ChoiceFilter(choices=Anime.Season.choices)
    year = django_filters.NumberFilter(field_name="year")
    year_from = django_filters.NumberFilter(field_name="year", lookup_expr="gte")
    year_to = django_filters.NumberFilter(field_name="year", lookup_expr="lte")
    score_min = django_filters.NumberFilter(field_name="score", lookup_expr="gte")
    genre = django_filters.CharFilter(method="filter_genre")
    studio = django_filters.CharFilter(method="filter_studio")

    class Meta:
        model = Anime
        fields: list[str] = []

    _form_class: type[forms.Form] | None = None

    def get_form_class(self) -> type[forms.Form]:
        """The validation form, built once per process instead of once per request (django-filter
        builds a new Form class from the filters each time; the fields are the same)."""
        cls = type(self)
        if cls._form_class is None:
            cls._form_class = super().get_form_class()
        return cls._form_class

    def filter_genre(self, queryset: QuerySet[Anime], name: str, value: str) -> QuerySet[Anime]:
        # "genre=action,drama": anime that have every listed genre (slug or id).
        for item in (part.strip() for part in value.split(",") if part.strip()):
            genre = Genre.objects.filter(_by_slug_or_id(item)).values_list("id", flat=True).first()
            if genre is None:
                raise UnknownFilterValue("genre", item)
            queryset = queryset.filter(genres=genre)
        return queryset

    def filter_studio(self, queryset: QuerySet[Anime], name: str, value: str) -> QuerySet[Anime]:
        studio = Studio.objects.filter(_by_slug_or_id(value.strip())).values_list("id", flat=True)
        found = studio.first()
        if found is None:
            raise UnknownFilterValue("studio", value)
        return queryset.filter(studios=found)


class UnknownFilterValue(Exception):
    def __init__(self, parameter: str, value: str) -> None:
        super().__init__(f"Invalid value for '{parameter}': no {parameter} {value!r}")
        self.parameter = parameter
