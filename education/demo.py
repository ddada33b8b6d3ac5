"""Demo education content, written in our own words from the clinic's milia
article (seeds/milia-article.txt). Idempotent: nothing changes on a second run."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.utils import timezone

from .models import Article, Condition, add_months

CONDITIONS = [
    # name, slug, ICD-10 code
    ("Milia", "milia", "L72.0"),
    ("Acne", "acne", "L70.0"),
]

MILIA_VS_ACNE = """\
Not every small white bump is acne. Milia are tiny, firm, white cysts. They
often show up on the cheeks, on the nose and around the eyes. Some people get
them on the eyelids. Some get them on the arms or hands too.

## What are milia?

Your skin sheds dead cells all the time. Sometimes a patch of skin does not
shed well. Then a protein called keratin gets stuck under the surface. It forms
a small, hard bump. One bump is called a milium. Many bumps are called milia.

Milia are very common in babies. About half of all newborns get them. Adults
get them too, most of all on skin that has had a lot of sun.

## How are milia different from acne?

- Acne starts in a pore. Milia do not.
- Acne spots often turn red, swell or hurt. Milia almost never do.
- A whitehead may pop. A milium is a closed cyst, so it will not.

## Please do not squeeze them

Milia are harmless. Many go away on their own. Squeezing them rarely works. It
can hurt your skin and leave a mark. If a bump bothers you, ask us. We can
remove it safely in the office.
"""

EXFOLIATION = """\
Milia form when dead skin cells get stuck. Gentle exfoliation helps your skin
shed those cells. This keeps new milia from forming.

## How to exfoliate

1. Wet your fingers a little.
2. Put a small amount of a gentle exfoliating product on your fingers.
3. Rub it over your face in small circles.
4. Do this for about one minute. Then rinse with warm water.
5. Pat your skin dry.

You can do this once a day. A few minutes is all you need.

## Be gentle

- Use a mild product made for daily use. Ask us which one fits your skin.
- Do not scrub hard. Rough scrubbing can make your skin red and sore.
- Stop for a few days if your skin stings, peels or feels very dry.
"""

GLYCOLIC_RETINOL = """\
Two kinds of products help your skin renew itself faster. This clears milia
and helps stop new ones.

## Glycolic acid: every other evening

- Use it every other evening, on a clean, dry face.
- Put on a thin layer. A little goes a long way.
- Wait ten minutes so it can dry.
- Then put on your moisturizer and go to bed.

## Retinol: the other evenings

Use a low-strength retinol on the evenings you skip glycolic acid. Do not use
both on the same night: together they can make your skin sore. Your plan shows
which one to use each night. Retinol helps your skin make new cells. Over a few
weeks your skin should feel smoother.

## Take care near your eyes

The skin around your eyes is thin. It gets sore more easily than the rest of
your face. Keep these products away from the eye area unless we told you to
use them there. If your skin burns or turns red, stop and call us.
"""

SUNSCREEN = """\
Sun damage is one of the causes of milia. The best plan is to stop new milia
before they start. Sunscreen is the key.

## Every morning

- Put on sunscreen with SPF 30 or higher every morning.
- Do this even when it is cloudy or you stay inside most of the day.
- Use enough to cover your whole face, ears and neck.
- Put more on every two hours when you are outside.

## Your daily routine

A simple routine keeps your skin smooth:

1. Sunscreen each morning.
2. Gentle exfoliation at home.
3. The evening products your dermatologist chose for you.

If milia still come back, we can remove them in the office.
"""

IN_OFFICE_DRAFT = """\
Some milia do not go away with home care. Your dermatologist can remove them in
the office. It takes a few minutes. We use a tiny sterile needle to open the
top of the cyst. Then we press the keratin out. Most people feel only a small
pinch.

## After your visit

- Keep the area clean.
- Do not pick at it.
- Wear sunscreen every morning.
"""

ARTICLES = [
    # slug, title, summary, body, condition slugs, published
    (
        "milia-vs-acne",
        "Milia: what they are and how they differ from acne",
        "Milia are small white cysts, not pimples. Learn why they form and why you should not squeeze them.",
        MILIA_VS_ACNE,
        ["milia", "acne"],
        True,
    ),
    (
        "exfoliating-safely",
        "How to exfoliate safely",
        "Gentle daily exfoliation helps clear milia and keeps new ones away.",
        EXFOLIATION,
        ["milia"],
        True,
    ),
    (
        "glycolic-acid-and-retinol",
        "Using glycolic acid and retinol",
        "Glycolic acid one evening, retinol the next. How to use them, and how to protect your eyes.",
        GLYCOLIC_RETINOL,
        ["milia"],
        True,
    ),
    (
        "daily-sunscreen",
        "Daily sunscreen to prevent milia",
        "Sun damage helps cause milia. SPF 30 or higher every morning is the best way to prevent them.",
        SUNSCREEN,
        ["milia", "acne"],
        True,
    ),
    (
        "in-office-milia-removal",
        "Removing milia in the office",
        "What happens when your dermatologist removes milia, and how to care for your skin afterwards.",
        IN_OFFICE_DRAFT,
        ["milia"],
        False,
    ),
]


def seed(*, stdout) -> None:
    conditions = {}
    for name, slug, code in CONDITIONS:
        conditions[slug], _ = Condition.objects.get_or_create(slug=slug, defaults={"name": name, "icd10_code": code})
    dermatologist = get_user_model().objects.get(username="demo-derm")
    today = timezone.localdate()
    reviewed_on = today - dt.timedelta(days=30)
    created = 0
    for slug, title, summary, body, condition_slugs, published in ARTICLES:
        workflow = {"status": Article.Status.DRAFT}
        if published:
            workflow = {
                "status": Article.Status.PUBLISHED,
                "medical_reviewer": dermatologist,
                "reviewed_on": reviewed_on,
                "next_review_due": add_months(reviewed_on, 12),
                "published_at": timezone.now() - dt.timedelta(days=30),
            }
        article, was_created = Article.objects.get_or_create(
            slug=slug,
            defaults={"title": title, "summary": summary, "body": body, "author": dermatologist, **workflow},
        )
        if was_created:
            article.conditions.set([conditions[c] for c in condition_slugs])
            created += 1
    stdout.write(f"Education: {len(ARTICLES)} demo articles ({created} new), conditions Milia and Acne")
