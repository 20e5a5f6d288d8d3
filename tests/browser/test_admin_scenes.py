"""The dashboard's scene library (issue 15): staff upload a GLB and see its progress, the
validator's report and the preview; the scene goes into a room that is provisioned on the Hubs
simulator with the new version's content-addressed URL; a second version, moving a room to
it, refusals in the page's language with nothing stored, progress in bytes on a slow line and
cancelling, and deleting with confirmation."""

from __future__ import annotations

import hashlib
import re
import secrets
import urllib.error
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, call, make_event
from tests.browser.hubs_thread import SimThread
from tests.browser.pages import (
    admin_open_event,
    admin_section,
    admin_signed_in,
    choose_scene_files,
    drop_scene_files,
    scene_card,
    wait_image_loaded,
)
from tests.conftest import REPO
from tests.harness.scene_files import png_bytes
from tests.harness.scene_uploads import variant, with_external_image
from tests.harness.server_process import ServerProcess


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _missing(server: ServerProcess, slug: str) -> bool:
    with pytest.raises(urllib.error.HTTPError) as refused:
        call(server, "GET", f"/api/scenes/{slug}")
    refused.value.close()
    return refused.value.code == 404


def test_upload_preview_a_room_with_the_scene_and_its_provisioning(
    browser: Any, server: ServerProcess, hubs: SimThread
) -> None:
    slug = "testszene-" + secrets.token_hex(3)
    first, second = variant(f"{slug} 1"), variant(f"{slug} 2")
    event = make_event(server, rooms=[{"slug": "info", "title": "Info-Foyer", "scene": "foyer"}])
    page = admin_signed_in(browser, server)
    cards = page.locator("#scenes li.scene-card")
    cards.first.wait_for()
    before = cards.count()

    # The file button suggests the short name from the file's name; it is a new scene.
    choose_scene_files(page, first, f"{slug}.glb")
    expect(page.locator("#scene-slug")).to_have_value(slug)
    expect(page.locator("#scene-slug-target")).to_have_text("Neue Szene: Version 1.")
    page.locator("#scene-title").fill("Testszene")
    page.locator("#scene-upload-submit").click()

    report = page.locator("#scene-report")
    expect(report).to_have_attribute("data-outcome", "saved")
    expect(report).to_be_focused()
    expect(page.locator("#scene-report-title")).to_have_text("Gespeichert: „Testszene“, Version 1")
    expect(report).to_contain_text("Die Prüfung hat nichts zu bemängeln.")
    expect(page.locator("#scene-progress")).to_have_attribute("value", "100")
    expect(page.locator("#scene-progress-text")).to_contain_text(re.compile(r"100\s%"))
    # No preview uploaded: the generated placeholder, a picture and not a broken image.
    wait_image_loaded(page, report.locator("img"))
    card = scene_card(page, slug)
    expect(cards).to_have_count(before + 1)
    expect(card.locator("h4")).to_contain_text("Testszene")
    expect(card.locator("img")).to_have_attribute("src", f"/scenes/{_sha(first)}/preview.svg")
    wait_image_loaded(page, card.locator("img"))
    expect(card.locator('.version-list li[data-version="1"]')).to_contain_text("Personal-Schlüssel")
    stored = call(server, "GET", f"/api/scenes/{slug}")
    assert [v["sha256"] for v in stored["versions"]] == [_sha(first)]
    # The form is empty again, ready for the next one.
    expect(page.locator("#scene-slug")).to_have_value("")

    # The new scene is in the room form's choice; a room gets it.
    admin_open_event(page, event)
    admin_section(page, "rooms")
    page.locator("#room-new").click()
    page.locator("#room-slug").fill("neu")
    page.locator("#room-title").fill("Neuer Raum")
    page.locator("#room-scene").select_option(slug)
    page.locator("#room-save").click()
    expect(page.locator('#rooms li[data-room="neu"]')).to_contain_text("Testszene")
    use = card.locator(f'.use-list li[data-use-event="{event}"][data-use-room="neu"]')
    expect(use).to_contain_text("Digitale Kirmes Test – Neuer Raum")
    expect(use).to_contain_text("nimmt beim Einrichten die neueste")

    # Provisioned on the (simulated) Hubs server with the version's content-addressed URL.
    admin_section(page, "hubs")
    page.locator("#provision-start").click()
    expect(page.locator('#provision-results tr[data-room="neu"]')).to_contain_text("Angelegt")
    hub = call(server, "GET", f"/api/events/{event}/rooms/neu")["hubs"]["hub_id"]
    in_hubs = hubs.call(lambda: hubs.sim.hubs[hub].gltf_bundle_url)
    assert in_hubs == f"{server.url}/scenes/{_sha(first)}.glb"
    expect(use).to_contain_text("Version 1")
    expect(use).to_contain_text("in Hubs eingerichtet")

    # A second version, with a preview image, from the card's button; the name stays.
    card.locator(".scene-new-version").click()
    expect(page.locator("#scene-glb")).to_be_focused()
    expect(page.locator("#scene-slug")).to_have_value(slug)
    expect(page.locator("#scene-slug-target")).to_have_text("Neue Version 2 von „Testszene“.")
    choose_scene_files(page, second, "export-aus-blender.glb", preview=png_bytes())
    expect(page.locator("#scene-slug")).to_have_value(slug)
    page.locator("#scene-upload-submit").click()
    expect(page.locator("#scene-report-title")).to_have_text("Gespeichert: „Testszene“, Version 2")
    expect(card).to_have_attribute("data-version", "2")
    expect(card.locator(".version-list li")).to_have_count(2)
    expect(card.locator('.version-list li[data-version="2"]')).to_contain_text("neueste")
    preview_sha = _sha(png_bytes())
    expect(card.locator("img")).to_have_attribute("src", f"/scenes/{preview_sha}/preview.png")
    wait_image_loaded(page, card.locator("img"))
    expect(cards).to_have_count(before + 1)

    # The room keeps version 1 until it is moved; then its next Hubs rooms take version 2.
    move = use.locator(".use-move")
    expect(move).to_have_text("Auf Version 2 umstellen")
    move.click()
    expect(use).to_contain_text("Version 2")
    expect(use.locator(".use-move")).to_have_count(0)
    assert call(server, "GET", f"/api/events/{event}/rooms/neu")["scene_sha256"] == _sha(second)
    # The open Hubs room keeps the scene it was made with.
    assert hubs.call(lambda: hubs.sim.hubs[hub].gltf_bundle_url) == in_hubs

    assert_accessible(page)
    # The other tests see the library of the scene folder again.
    call(server, "DELETE", f"/api/events/{event}")
    call(server, "DELETE", f"/api/scenes/{slug}")
    assert page.js_errors == []
    page.context.close()


def test_refusals_in_the_pages_language_and_deleting(browser: Any, server: ServerProcess) -> None:
    page = admin_signed_in(browser, server)
    cards = page.locator("#scenes li.scene-card")
    cards.first.wait_for()
    before = cards.count()
    report = page.locator("#scene-report")

    # Nothing chosen: the form says what is missing.
    page.locator("#scene-upload-submit").click()
    expect(page.locator("#scene-upload-summary")).to_be_focused()
    expect(page.locator("#scene-glb-error")).to_have_text("Bitte eine Datei auswählen.")

    # A cut-off GLB: refused with the reason in German; nothing stored, the gallery as before.
    cut = "abgeschnitten-" + secrets.token_hex(3)
    choose_scene_files(page, variant(cut)[:-20], f"{cut}.glb")
    page.locator("#scene-upload-submit").click()
    expect(report).to_have_attribute("data-outcome", "refused")
    expect(report).to_be_focused()
    expect(report.locator('li[data-code="glb_truncated"]')).to_contain_text(
        "Die Datei ist abgeschnitten"
    )
    expect(report).to_contain_text("die Bibliothek ist unverändert")
    expect(cards).to_have_count(before)
    assert _missing(server, cut)

    # A scene the server's check refuses: each finding in German, its English detail beside it.
    bad = "extern-" + secrets.token_hex(3)
    choose_scene_files(page, with_external_image(), f"{bad}.glb")
    expect(page.locator("#scene-slug")).to_have_value(bad)
    page.locator("#scene-upload-submit").click()
    finding = report.locator('li[data-code="external_resource"]')
    expect(finding).to_contain_text("verweist auf eine externe Datei")
    expect(finding.locator('[lang="en"]')).to_contain_text("cdn.example.org")
    expect(report).to_contain_text("Die Szene lässt sich in Hubs nicht verwenden")
    expect(page.locator("#scene-progress")).to_have_attribute("value", "100")
    expect(cards).to_have_count(before)
    assert _missing(server, bad)
    assert_accessible(page)

    page.locator("#lang-switch").click()
    expect(page.locator("#scene-report-title")).to_have_text("Not saved")
    expect(finding.locator(".problem-text")).to_have_text(
        "The scene refers to an external file (a texture, say). "
        "Everything must be embedded in the .glb file."
    )
    page.locator("#lang-switch").click()
    expect(page.locator("#scene-report-title")).to_have_text("Nicht gespeichert")

    # Dropped on the form: the .glb and the .png go to their fields, the name is suggested.
    kept = "abgelegt-" + secrets.token_hex(3)
    drop_scene_files(page, variant(kept), f"{kept}.glb", preview=png_bytes())
    expect(page.locator("#scene-slug")).to_have_value(kept)
    assert page.evaluate(
        "[document.getElementById('scene-glb').files[0].name,"
        " document.getElementById('scene-preview').files[0].name]"
    ) == [f"{kept}.glb", "vorschau.png"]
    page.locator("#scene-upload-submit").click()
    expect(report).to_have_attribute("data-outcome", "saved")
    expect(cards).to_have_count(before + 1)

    # Deleting is refused while a room uses the scene (the rooms are named), then done.
    event = make_event(server, rooms=[{"slug": "halle", "title": "Halle", "scene": kept}])
    page.reload()
    card = scene_card(page, kept)
    card.locator(".scene-delete").click()
    expect(page.locator("#confirm-text")).to_contain_text(kept)
    page.locator("#confirm-ok").click()
    expect(card.locator(".scene-error")).to_contain_text(
        "Diese Räume verwenden die Szene noch; bitte ihnen zuerst eine andere Szene geben: "
        "Digitale Kirmes Test – Halle"
    )
    expect(card.locator(".scene-delete")).to_be_focused()
    call(server, "DELETE", f"/api/events/{event}")
    card.locator(".scene-delete").click()
    page.locator("#confirm-ok").click()
    expect(card).to_have_count(0)
    expect(cards).to_have_count(before)
    expect(page.locator("#gallery-heading")).to_be_focused()
    assert _missing(server, kept)
    # Scenes from the server's folder cannot be deleted here: no button for them.
    expect(scene_card(page, "foyer").locator(".scene-delete")).to_have_count(0)
    assert page.js_errors == []
    page.context.close()


def test_progress_in_bytes_and_cancelling(browser: Any, server: ServerProcess) -> None:
    page = admin_signed_in(browser, server)
    cards = page.locator("#scenes li.scene-card")
    cards.first.wait_for()
    before = cards.count()
    # A slow line (20 kB/s up): the upload of a 92 kB scene takes a few seconds.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 20_000},
    )
    slow = "langsam-" + secrets.token_hex(3)
    choose_scene_files(page, (REPO / "room_scenes/werkstatt/scene.glb").read_bytes(), f"{slow}.glb")
    page.locator("#scene-upload-submit").click()
    cancel = page.locator("#scene-upload-cancel")
    expect(cancel).to_be_visible()
    expect(page.locator("#scene-upload-submit")).to_be_disabled()
    page.wait_for_function(
        "() => { const bar = document.getElementById('scene-progress');"
        " return bar.value > 5 && bar.value < 90; }"
    )
    expect(page.locator("#scene-progress-text")).to_have_text(
        re.compile(r"^\d+\s% · \d+ kB von 9\d kB$")
    )
    cancel.click()
    expect(page.locator("#scene-report")).to_contain_text(
        "Hochladen abgebrochen. Nichts wurde gespeichert."
    )
    expect(cancel).to_be_hidden()
    expect(page.locator("#scene-upload-submit")).to_be_enabled()
    expect(cards).to_have_count(before)
    assert _missing(server, slow)
    assert page.js_errors == []
    page.context.close()
