"""What the check-in page gives its script: the door app's addresses and its texts in
the page's language (the app works offline, so it cannot ask for them later)."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from eventhub.registration.models import STATUS_LABELS


def urls(slug: str) -> dict[str, str]:
    def door(endpoint: str) -> str:
        return url_for(f"checkin_door.{endpoint}", slug=slug)

    return {
        "page": url_for("manage_registration.checkin", slug=slug),
        "worker": url_for("checkin_worker.worker", slug=slug),
        "list": door("door_list"), "device": door("start_device"),
        "signout": door("sign_out_device"), "sync": door("sync"), "undo": door("undo"),
        "token": door("token"), "login": url_for("accounts.login", next=url_for(
            "manage_registration.checkin", slug=slug)),
    }


def texts() -> dict[str, object]:
    """The app's texts; ``{name}`` and the like are filled in by the script."""
    return {
        "online": _("Online – check-ins sendes med det samme."),
        "offline": _("Offline – check-ins gemmes på enheden og sendes, når nettet er "
                     "tilbage."),
        "queued": _("{n} venter på at blive sendt"),
        "queued_none": _("Alt er sendt"),
        "device": _("Enhed {x}"),
        "list_size": _("Listen på enheden: {n} tilmeldte"),
        "loading": _("Henter check-in-listen …"),
        "no_list": _("Check-in-listen er ikke hentet endnu. Forbind enheden til nettet én "
                     "gang, så hentes den."),
        "counter": _("{n} af {total} checket ind"),
        "checked_in": _("{name} er checket ind kl. {time}."),
        "already": _("Allerede checket ind {time} (enhed {device})"),
        "already_web": _("Allerede checket ind {time} (på billetsiden)"),
        "warn_duplicate": _("{name}: allerede checket ind {time} (enhed {device})"),
        "warn_duplicate_web": _("{name}: allerede checket ind {time} (på billetsiden)"),
        "warn_not_confirmed": _("{name}: ikke checket ind – {status}."),
        "warn_refused": _("{name}: ikke modtaget – {reason}"),
        "warn_undone": _("{name}: check-in er fortrudt af en anden."),
        "unknown": _("Ukendt billet: koden findes ikke på listen for dette arrangement."),
        "not_confirmed": _("{status} – kan ikke checkes ind."),
        "no_match": _("Ingen på listen matcher »{q}«."),
        "check_in": _("Check ind"),
        "undo": _("Fortryd"),
        "undone": _("Check-in for {name} er fortrudt."),
        "dismiss": _("OK"),
        "over": _("Arrangementet er slut. Check-in-listen er fjernet fra enheden."),
        "over_queued": _("Arrangementet er slut. Listen er fjernet fra enheden; {n} "
                         "check-ins venter stadig på at blive sendt."),
        "other_user": _("Check-in-data fra en anden bruger er fjernet fra enheden."),
        "signed_out_link": _("Log ind igen"),
        "install": _("Installér som app"),
        "unreadable": _("Koden kunne ikke læses. Prøv igen, eller skriv koden."),
        "statuses": {key: str(label) for key, label in STATUS_LABELS.items()},
    }
