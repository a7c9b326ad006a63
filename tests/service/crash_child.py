"""Child process for the crash test: runs verifications in a loop (FAKE engines) until killed.

Usage: python -m tests.service.crash_child DB_URL DATA_DIR CLIENT_ID CONSENT_ID MARKER_FILE
"""

from __future__ import annotations

import sys
from pathlib import Path

from kyc.config import Settings
from kyc.storage import Database
from kyc.vault import Vault
from kyc.verification import DecisionRules, VerificationInput, VerificationService
from tests.service.fakes import FakeEngines, png

NAME, ID_NUMBER = "王小明", "11010519491231183X"


def main() -> None:
    url, data_dir, client_id, consent_id, marker = sys.argv[1:6]
    settings = Settings(environment="test", data_dir=Path(data_dir), database_url=url)
    db = Database(url)
    fake = FakeEngines()
    fake.delay_s = 0.005
    service = VerificationService(settings, db, Vault(settings), fake.engines(), DecisionRules())
    colour = (200, 150, 120)
    i = 0
    while True:
        i += 1
        front = fake.id_card(colour, name=NAME, id_number=ID_NUMBER, checks={"region_code": (False, "id_region_unknown")}, marker=i)
        inp = VerificationInput(id_front=front, selfie=png(colour, marker=i))
        service.process(client_id, "client:crash", consent_id, inp, None, "f" * 64)
        if i == 1:
            Path(marker).write_text("started")


if __name__ == "__main__":
    main()
