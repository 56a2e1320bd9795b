"""User-supplied text is rendered as text: message bodies, group titles, file names
and (refused) usernames made of script and markup run nothing and create no elements.

The victim's browser ignores the page's Content-Security-Policy (Playwright's
`bypass_csp`), so an injection would really execute there: the test proves the
rendering, not only the CSP.
"""

from __future__ import annotations

from tests.browser.conftest import expect, unique

PAYLOADS = [
    '<img src=x onerror="window.__xss=1;alert(1)">',
    "<script>window.__xss=2</script>",
    '"><svg onload=window.__xss=3><b>bold</b>',
    '<a href="javascript:window.__xss=4">click</a> &amp; &lt;',
    '<iframe srcdoc="<script>parent.__xss=5</script>"></iframe>',
]
TITLE = '<img src=x onerror="window.__xss=6">Team<script>window.__xss=7</script>'
# Browsers percent-encode '"' in multipart file names (HTML spec), so none here.
FILE_NAME = "<img src=x onerror=window.__xss=8>.txt"
IMAGE_NAME = "'><svg onload=window.__xss=9>.png"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a73"
    "0000001049444154789c63f8cf0004ff192014001bf203fdd696f22b0000000049454e44ae426082"
)

# Elements the client creates itself; anything else inside the app came from data.
FOREIGN_ELEMENTS = """() => {
  const app = document.getElementById('app');
  const bad = [...app.querySelectorAll('script, iframe, b, a[href^="javascript"], img:not(.attachment-image)')];
  const svgs = [...app.querySelectorAll('svg')].filter((s) => !s.classList.contains('icon'));
  const handlers = [...document.querySelectorAll('*')].filter((el) =>
    [...el.attributes].some((a) => a.name.startsWith('on')));
  return [...bad, ...svgs, ...handlers].map((el) => el.outerHTML.slice(0, 80));
}"""


def test_payloads_render_as_text_and_run_nothing(ui) -> None:
    mallory = ui(unique("mallory"))
    # Usernames cannot carry markup at all: the server refuses them, and the refusal
    # itself is shown as text.
    mallory.page.get_by_role("tab", name="Create account").click()
    mallory.page.get_by_label("Username").fill('<img src=x onerror="window.__xss=10">')
    mallory.page.get_by_label("Password").fill("a-fine-password-123")
    mallory.page.get_by_role("button", name="Create account").click()
    expect(mallory.page.locator("#auth-error")).to_contain_text("username")
    mallory.login_with_api()

    victim = ui(unique("victim"), bypass_csp=True)
    inline_runs = "() => { const s = document.createElement('script'); s.textContent = 'window.__inline = 1';"
    inline_runs += " document.head.append(s); s.remove(); return window.__inline === 1; }"
    assert victim.page.evaluate(inline_runs), "the victim's page must run injected script if it gets any"
    assert not mallory.page.evaluate(inline_runs), "the real page's CSP blocks inline script"
    mallory.errors.clear()  # the CSP violation just provoked on purpose
    mallory.page.evaluate("() => { window.__cspViolations = []; }")
    dialogs: list[str] = []
    for person in (mallory, victim):
        person.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    victim.login_with_api()

    # A group whose title is markup, messages that are markup, files named as markup.
    mallory.page.get_by_role("button", name="New group").click()
    mallory.page.get_by_label("Group name").fill(TITLE)
    mallory.page.get_by_label("Add people by username").fill(victim.username)
    mallory.page.locator(f'.user-result[data-username="{victim.username}"]').click()
    mallory.page.get_by_role("button", name="Create group").click()
    expect(mallory.page.locator("#conversation-title")).to_have_text(TITLE)
    for payload in PAYLOADS:
        mallory.send(payload)
    expect(mallory.page.locator(".message:not(.pending) .text")).to_have_text(PAYLOADS)
    # Picked files wait in the composer, previewed under their names (as text), until sent.
    mallory.page.set_input_files("#file-input", files=[{"name": FILE_NAME, "mimeType": "text/html", "buffer": b"<b>"}])
    expect(mallory.page.locator(".staged-file .file-name")).to_have_text(FILE_NAME)
    mallory.page.get_by_role("button", name="Send message").click()
    expect(mallory.page.locator(".message:not(.pending) .file-name")).to_have_text(FILE_NAME)
    mallory.page.set_input_files("#file-input", files=[{"name": IMAGE_NAME, "mimeType": "image/png", "buffer": PNG}])
    expect(mallory.page.locator(".staged-thumb")).to_have_attribute("alt", f"Preview of {IMAGE_NAME}")
    mallory.page.get_by_role("button", name="Send message").click()

    # The victim sees all of it, literally.
    group = victim.page.locator(".conversation", has_text="Team")
    expect(group.locator(".conversation-name")).to_have_text(TITLE)
    group.click()
    expect(victim.page.locator("#conversation-title")).to_have_text(TITLE)
    texts = victim.page.locator(".message .text")
    expect(texts).to_have_text(PAYLOADS)
    expect(victim.page.locator(".message .file-name")).to_have_text(FILE_NAME)
    expect(victim.page.locator(".message img.attachment-image")).to_have_attribute("alt", IMAGE_NAME)
    expect(victim.page.locator(".conversation-preview").first).to_contain_text(IMAGE_NAME)

    # An edit into markup, and the details dialog (title and member names) as well.
    first = mallory.message("window.__xss=1")
    first.hover()
    first.get_by_role("button", name="Edit message").click()
    mallory.page.get_by_label("New text of the message").fill(PAYLOADS[1] + " (edited)")
    mallory.page.get_by_label("New text of the message").press("Enter")
    expect(texts.first).to_have_text(PAYLOADS[1] + " (edited)")
    victim.screenshot("08-xss-payloads-as-text")
    victim.page.get_by_role("button", name="Conversation details and members").click()
    expect(victim.page.locator(".details-name")).to_have_text(TITLE)
    expect(victim.page.get_by_label("Group name")).to_have_value(TITLE)

    for person in (mallory, victim):
        assert person.page.evaluate("() => window.__xss") is None
        assert person.page.evaluate(FOREIGN_ELEMENTS) == []
    assert dialogs == []
    mallory.assert_no_errors("status of 400")  # the refused username
    victim.assert_no_errors()
