import pytest
from django.core.files.storage import FileSystemStorage
from whitenoise.storage import CompressedManifestStaticFilesStorage

from portal.storage import StaticFilesStorage


def test_it_gives_whitenoises_hashed_urls_and_keeps_them(tmp_path):
    source = tmp_path / "source"
    (source / "css").mkdir(parents=True)
    (source / "css" / "site.css").write_text("body { color: #222; }")
    out = tmp_path / "static"
    storage = StaticFilesStorage(location=out, base_url="/static/")
    storage.save("css/site.css", FileSystemStorage(location=source).open("css/site.css"))
    processed = list(storage.post_process({"css/site.css": (FileSystemStorage(location=source), "css/site.css")}))
    assert not [error for *_, error in processed if isinstance(error, Exception)]

    plain = CompressedManifestStaticFilesStorage(location=out, base_url="/static/")
    hashed = plain.url("css/site.css")
    assert hashed.startswith("/static/css/site.") and hashed != "/static/css/site.css"
    reloaded = StaticFilesStorage(location=out, base_url="/static/")
    assert reloaded.url("css/site.css") == hashed
    assert reloaded.url("css/site.css") == hashed  # from what it kept
    assert reloaded.url("css/site.css", force=True) == hashed
    for _ in range(2):  # a file that was never collected is an error each time, not a remembered URL
        with pytest.raises(ValueError):
            reloaded.url("css/missing.css")
