"""Demo education content, written in our own words from the clinic's milia
article (seeds/milia-article.txt), in English and (the published ones) in
Spanish. Idempotent: nothing changes on a second run."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.utils import timezone

from .models import Article, Condition, TeachBackQuestion, add_months

CONDITIONS = [
    # name, slug, ICD-10 code, name in Spanish
    ("Milia", "milia", "L72.0", "Milia"),
    ("Acne", "acne", "L70.0", "Acné"),
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

## How we treat milia

- Exfoliate gently every day, so dead skin cells do not get stuck.
- Put glycolic acid on every other evening. Let it dry for ten minutes. Then
  put on your moisturizer.
- Put on sunscreen every morning. Sun damage helps milia form.
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

MOISTURIZER = """\
A moisturizer is the last step of your evening routine. It keeps your skin soft
and calm while the other products work.

## How to use it

1. Wait until the glycolic acid or retinol has dried. Ten minutes is enough.
2. Put a small amount of moisturizer on your fingers.
3. Smooth it over your whole face and your neck.
4. Then go to bed.

## Which one to use

- Pick one with no fragrance. Fragrance can sting skin that is already
  working hard.
- A light cream or lotion is enough. Heavy oils can trap dead skin cells.
- Use it every evening, also on nights with no glycolic acid or retinol.

If your skin feels tight, dry or sore, tell us. We may change your routine.
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
        "evening-moisturizer",
        "Your evening moisturizer",
        "Why a plain moisturizer ends your evening routine, and how to put it on.",
        MOISTURIZER,
        ["milia"],
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


# Spanish versions of the published articles: written for Spanish readers (usted), not word for word.
MILIA_VS_ACNE_ES = """\
No todo granito blanco es acné. Los milia son quistes muy pequeños, duros y
blancos. Suelen salir en las mejillas, en la nariz y alrededor de los ojos.
A algunas personas les salen en los párpados. A otras, también en los brazos o
en las manos.

## ¿Qué son los milia?

La piel cambia sus células muertas todo el tiempo. A veces una zona de la piel
no logra soltarlas. Entonces una proteína llamada queratina queda atrapada bajo
la superficie. Así se forma un bultito duro. Si es uno solo, se llama milium.
Si son varios, se llaman milia.

Los milia son muy comunes en los bebés. Casi la mitad de los recién nacidos los
tiene. Los adultos también los tienen, sobre todo en la piel que recibió mucho
sol.

## ¿En qué se diferencian del acné?

- El acné empieza en un poro. Los milia no.
- Los granos de acné suelen ponerse rojos, hinchados o doler. Los milia casi
  nunca.
- Un punto blanco de acné puede reventar. Un milium es un quiste cerrado, así
  que no revienta.

## Por favor, no los apriete

Los milia no hacen daño. Muchos se van solos. Apretarlos casi nunca funciona.
Puede lastimar su piel y dejarle una marca. Si un bultito le molesta, díganos.
Podemos sacarlo sin riesgo aquí en el consultorio.

## Cómo tratamos los milia

- Exfolie la piel con suavidad cada día. Así las células muertas no se quedan
  atrapadas.
- Póngase ácido glicólico una noche sí y otra no. Deje que se seque diez
  minutos. Luego póngase la crema hidratante.
- Póngase protector solar cada mañana. El daño del sol ayuda a que salgan
  milia.
"""

EXFOLIATION_ES = """\
Los milia se forman cuando las células muertas de la piel se quedan atrapadas.
Exfoliar con suavidad ayuda a la piel a soltarlas. Así se evita que salgan
milia nuevos.

## Cómo exfoliar

1. Moje un poco la punta de los dedos.
2. Ponga un poco de un exfoliante suave en los dedos.
3. Páselo por la cara con movimientos pequeños en círculo.
4. Hágalo más o menos un minuto. Luego enjuague con agua tibia.
5. Seque la piel con toques suaves.

Puede hacerlo una vez al día. Bastan unos pocos minutos.

## Sea suave

- Use un producto suave, hecho para usar a diario. Pregúntenos cuál le
  conviene a su piel.
- No frote fuerte. Frotar fuerte puede irritar y enrojecer la piel.
- Deje de exfoliar unos días si la piel le arde, se pela o está muy seca.
"""

GLYCOLIC_RETINOL_ES = """\
Dos tipos de productos ayudan a que la piel se renueve más rápido. Así se van
los milia y cuesta más que salgan nuevos.

## Ácido glicólico: una noche sí y otra no

- Úselo una noche sí y otra no, con la cara limpia y seca.
- Ponga una capa fina. Con poco basta.
- Espere diez minutos para que se seque.
- Luego ponga su crema hidratante y vaya a dormir.

## Retinol: las otras noches

Use un retinol suave las noches en que no usa ácido glicólico. No use los dos
la misma noche: juntos pueden irritar la piel. Su plan le dice cuál usar cada
noche. El retinol ayuda a la piel a formar células nuevas. En unas semanas
su piel debería sentirse más lisa.

## Cuide la zona de los ojos

La piel alrededor de los ojos es fina. Se irrita más fácil que el resto de la
cara. No ponga estos productos cerca de los ojos, salvo que se lo indiquemos.
Si la piel le arde o se pone roja, deje de usarlos y llámenos.
"""

SUNSCREEN_ES = """\
El daño del sol es una de las causas de los milia. Lo mejor es evitar que
salgan milia nuevos. Para eso, el protector solar es clave.

## Todas las mañanas

- Póngase protector solar con FPS 30 o más todas las mañanas.
- Hágalo aunque esté nublado o pase casi todo el día en casa.
- Use lo suficiente para cubrir toda la cara, las orejas y el cuello.
- Vuelva a ponerse cada dos horas cuando esté al aire libre.

## Su rutina diaria

Una rutina sencilla mantiene su piel lisa:

1. Protector solar cada mañana.
2. Exfoliación suave en casa.
3. Los productos de la noche que eligió su dermatólogo.

Si los milia vuelven, podemos sacarlos aquí en el consultorio.
"""

MOISTURIZER_ES = """\
La crema hidratante es el último paso de su rutina de la noche. Mantiene la
piel suave y tranquila mientras los otros productos hacen su trabajo.

## Cómo usarla

1. Espere a que el ácido glicólico o el retinol se seque. Bastan diez minutos.
2. Ponga un poco de crema en los dedos.
3. Extiéndala por toda la cara y el cuello.
4. Luego vaya a dormir.

## Cuál usar

- Elija una sin perfume. El perfume puede arder en la piel que ya está
  trabajando.
- Basta una crema o loción ligera. Los aceites espesos pueden atrapar células
  muertas.
- Úsela todas las noches, también las noches sin ácido glicólico ni retinol.

Si siente la piel tirante, seca o irritada, díganos. Podemos cambiar su rutina.
"""

# slug, original's slug, title, summary, body
SPANISH_ARTICLES = [
    (
        "milia-y-acne",
        "milia-vs-acne",
        "Milia: qué son y en qué se diferencian del acné",
        "Los milia son quistes blancos y pequeños, no granos. Sepa por qué salen y por qué no debe apretarlos.",
        MILIA_VS_ACNE_ES,
    ),
    (
        "exfoliar-con-cuidado",
        "exfoliating-safely",
        "Cómo exfoliar la piel sin dañarla",
        "Exfoliar con suavidad cada día ayuda a quitar los milia y evita que salgan nuevos.",
        EXFOLIATION_ES,
    ),
    (
        "acido-glicolico-y-retinol",
        "glycolic-acid-and-retinol",
        "Cómo usar el ácido glicólico y el retinol",
        "Ácido glicólico una noche, retinol la siguiente. Cómo usarlos y cómo cuidar sus ojos.",
        GLYCOLIC_RETINOL_ES,
    ),
    (
        "protector-solar-diario",
        "daily-sunscreen",
        "Protector solar a diario para prevenir los milia",
        "El sol ayuda a que salgan milia. Un FPS 30 o más cada mañana es la mejor forma de evitarlos.",
        SUNSCREEN_ES,
    ),
    (
        "crema-hidratante-de-noche",
        "evening-moisturizer",
        "Su crema hidratante de la noche",
        "Por qué una crema hidratante sencilla cierra su rutina de la noche, y cómo ponérsela.",
        MOISTURIZER_ES,
    ),
]

# Teach-back questions, by article slug: question, choices, number of the right one, explanation.
QUESTIONS = {
    "milia-vs-acne": [
        (
            "Should you squeeze milia?",
            ["Yes, it is the quickest way to clear them", "No, ask us to remove them safely"],
            2,
            "Milia are closed cysts: squeezing rarely works and can hurt your skin or leave a mark. "
            "We can remove them safely in the office.",
        ),
        (
            "How long does glycolic acid dry before the moisturizer?",
            ["One minute", "Ten minutes", "One hour"],
            2,
            "Let it dry for ten minutes, then put on your moisturizer and go to bed.",
        ),
    ],
    "milia-y-acne": [
        (
            "¿Debe apretar los milia?",
            ["Sí, así se van más rápido", "No, pídanos que los saquemos sin riesgo"],
            2,
            "Los milia son quistes cerrados: apretarlos casi nunca funciona y puede lastimar la piel o dejar "
            "una marca. Podemos sacarlos sin riesgo en el consultorio.",
        ),
        (
            "¿Cuánto tiempo debe secarse el ácido glicólico antes de la crema hidratante?",
            ["Un minuto", "Diez minutos", "Una hora"],
            2,
            "Déjelo secar diez minutos; luego póngase la crema hidratante y vaya a dormir.",
        ),
    ],
}


def _published_by(dermatologist, reviewed_on) -> dict:
    return {
        "status": Article.Status.PUBLISHED,
        "medical_reviewer": dermatologist,
        "reviewed_on": reviewed_on,
        "next_review_due": add_months(reviewed_on, 12),
        "published_at": timezone.now() - dt.timedelta(days=30),
        "revision": 1,
    }


def _seed_spanish(dermatologist, reviewed_on) -> int:
    """The Spanish versions, each published (its own review) and linked to its English original."""
    created = 0
    for slug, original_slug, title, summary, body in SPANISH_ARTICLES:
        original = Article.objects.get(slug=original_slug)
        article, was_created = Article.objects.get_or_create(
            slug=slug,
            defaults={
                "title": title,
                "summary": summary,
                "body": body,
                "language": "es",
                "translation_of": original,
                "author": dermatologist,
                **_published_by(dermatologist, reviewed_on),
            },
        )
        if was_created:
            article.conditions.set(original.conditions.all())
            created += 1
    return created


def seed(*, stdout) -> None:
    conditions = {}
    for name, slug, code, name_es in CONDITIONS:
        conditions[slug], _ = Condition.objects.get_or_create(
            slug=slug, defaults={"name": name, "icd10_code": code, "name_es": name_es}
        )
        if not conditions[slug].name_es:  # a database seeded before Spanish names existed
            Condition.objects.filter(pk=conditions[slug].pk).update(name_es=name_es)
    dermatologist = get_user_model().objects.get(username="demo-derm")
    today = timezone.localdate()
    reviewed_on = today - dt.timedelta(days=30)
    created = 0
    for slug, title, summary, body, condition_slugs, published in ARTICLES:
        workflow = _published_by(dermatologist, reviewed_on) if published else {"status": Article.Status.DRAFT}
        article, was_created = Article.objects.get_or_create(
            slug=slug,
            defaults={"title": title, "summary": summary, "body": body, "author": dermatologist, **workflow},
        )
        if was_created:
            article.conditions.set([conditions[c] for c in condition_slugs])
            created += 1
    spanish = _seed_spanish(dermatologist, reviewed_on)
    _seed_questions()
    stdout.write(
        f"Education: {len(ARTICLES)} demo articles ({created} new) and {len(SPANISH_ARTICLES)} in Spanish "
        f"({spanish} new), conditions Milia and Acne, teach-back questions on the milia article"
    )


def _seed_questions() -> None:
    """The milia article's teach-back questions, in English and Spanish, unless it has some."""
    for slug, questions in QUESTIONS.items():
        article = Article.objects.get(slug=slug)
        if article.questions.exists():
            continue
        TeachBackQuestion.objects.bulk_create(
            TeachBackQuestion(
                article=article,
                position=position,
                question=question,
                **{f"choice_{n}": choice for n, choice in enumerate(choices, start=1)},
                correct_choice=right,
                explanation=explanation,
            )
            for position, (question, choices, right, explanation) in enumerate(questions, start=1)
        )
