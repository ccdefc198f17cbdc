from __future__ import annotations

import factory
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from catalog.models import (
    AiringSlot,
    Anime,
    Episode,
    Genre,
    PlaybackSource,
    Release,
    Studio,
    Translation,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")


class GenreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Genre
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Genre {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))


class StudioFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Studio
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Studio {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))


class AnimeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Anime
        skip_postgeneration_save = True

    shikimori_id = factory.Sequence(lambda n: 100_000 + n)
    mal_id = factory.LazyAttribute(lambda o: o.shikimori_id)
    title = factory.Sequence(lambda n: f"Anime {n:04d}")
    kind = Anime.Kind.TV
    status = Anime.Status.RELEASED
    year = 2020
    season = Anime.Season.SPRING
    score = 7
    state = Anime.State.PUBLISHED

    @factory.post_generation
    def genres(self, create: bool, extracted: list[Genre] | None, **kwargs: object) -> None:
        if create and extracted:
            self.genres.set(extracted)

    @factory.post_generation
    def studios(self, create: bool, extracted: list[Studio] | None, **kwargs: object) -> None:
        if create and extracted:
            self.studios.set(extracted)


class ReleaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Release

    anime = factory.SubFactory(AnimeFactory)
    ordering = factory.Sequence(lambda n: n + 1)
    title = factory.LazyAttribute(lambda o: f"{o.anime.title} part {o.ordering}")
    year = 2020


class EpisodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Episode

    release = factory.SubFactory(ReleaseFactory)
    number = factory.Sequence(lambda n: n + 1)


class TranslationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Translation
        django_get_or_create = ("provider", "external_id")

    provider = Translation.Provider.KODIK
    external_id = factory.Sequence(str)
    name = factory.Sequence(lambda n: f"Team {n}")


class PlaybackSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlaybackSource

    episode = factory.SubFactory(EpisodeFactory)
    translation = factory.SubFactory(TranslationFactory)
    url = factory.Sequence(lambda n: f"https://player.example/{n}")


class AiringSlotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AiringSlot

    anime = factory.SubFactory(AnimeFactory)
    episode = factory.Sequence(lambda n: n + 1)
    airs_at = factory.LazyFunction(timezone.now)
