"""Chapter 10 (Security): solutions, and the answers tests/test_course.py tries on each check."""

import hashlib
import hmac


def password_ok(password, creds):
    """RFC 5802 section 3: SaltedPassword, ClientKey, StoredKey; compare with what the server stored."""
    salt, stored_key, server_key = creds.sha256
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, creds.iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    return hmac.compare_digest(hashlib.sha256(client_key).digest(), stored_key)


def password_ok_with_sha1(password, creds):
    """The same with the SCRAM-SHA-1 keys: right too."""
    salt, stored_key, _ = creds.sha1
    salted = hashlib.pbkdf2_hmac("sha1", password.encode("utf-8"), salt, creds.iterations)
    return hashlib.sha1(hmac.new(salted, b"Client Key", hashlib.sha1).digest()).digest() == stored_key


def password_ok_with_the_lab(password, creds):
    from xmpplab.server.auth import check_password
    return check_password(creds, password)


def password_ok_always(password, creds):              # lets everybody in
    return True


def password_ok_server_key(password, creds):          # compares with the server key
    salt, stored_key, server_key = creds.sha256
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, creds.iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    return hashlib.sha256(client_key).digest() == server_key


def password_ok_no_salt(password, creds):             # forgets the salt and the iterations
    salt, stored_key, server_key = creds.sha256
    client_key = hmac.new(hashlib.sha256(password.encode()).digest(), b"Client Key", "sha256").digest()
    return hashlib.sha256(client_key).digest() == stored_key


def password_ok_lowercase(password, creds):           # case-insensitive: "Wherefore" gets in
    return password_ok(password.lower(), creds)


def password_ok_returns_bytes(password, creds):       # returns the key, not True or False
    salt, stored_key, server_key = creds.sha256
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, creds.iterations)
    return hashlib.sha256(hmac.new(salted, b"Client Key", "sha256").digest()).digest()


def password_ok_crashes(password, creds):             # the keys are not a dict
    return creds["sha256"] is not None


SOLUTIONS = {
    "10.1": password_ok,
}

# Right answers written differently.
REWRITTEN = {
    "10.1": [password_ok_with_sha1, password_ok_with_the_lab],
}

# Near misses, each with words its result must contain.
NEAR_MISSES = {
    "10.1": [(password_ok_always, "a wrong password would log in"),
             (password_ok_server_key, "not the server key"),
             (password_ok_no_salt, "check the salt"),
             (password_ok_lowercase, "returned True"),
             (password_ok_returns_bytes, "it should return True or False"),
             (password_ok_crashes, "raised TypeError"),
             ("password_ok", "the answer is a function")],
}


# Live exercises (checked against a running Lab): id -> (async solve(lab), async near_miss(lab), words).
async def solve_10_2(lab):
    await lab.connect("romeo@example.net/orchard")
    juliet = await lab.connect("juliet@example.com/balcony")
    await juliet.send_raw("<message from='juliet@example.com/balcony' to='romeo@example.net' type='chat'>"
                          "<body>It is I, thy Juliet</body></message>")


async def near_miss_10_2(lab):
    await lab.connect("romeo@example.net/orchard")
    juliet = await lab.connect("juliet@example.com/balcony")
    await juliet.send_raw("<message from='nurse@example.com' to='romeo@example.net' type='chat'>"
                          "<body>It is I, the Nurse</body></message>")


LIVE = {
    "10.2": (solve_10_2, near_miss_10_2, "invalid-from"),
}
