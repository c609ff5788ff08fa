# Nested exception (patterns.md case 9): while handling KeyError (a missing setting) the
# fallback raises ValueError; the handler of that one blocks, inside the inner except block.
# The thread's handled exception is ValueError whose __context__ is KeyError.
import threading

import _scenario

settings = {"retries": "three"}
never = threading.Event()


def read_setting(name):
    return settings[name]


def load_timeout():
    try:
        return int(read_setting("timeout"))
    except KeyError:
        try:
            return int(settings["retries"])  # ValueError while handling KeyError
        except ValueError:
            never.wait()  # parked inside the inner except block


def config_loader():
    load_timeout()


def main():
    t = threading.Thread(target=config_loader, name="config-loader")
    t.daemon = True
    t.start()
    _scenario.report_when_parked(expected=2, exception={"type": "ValueError",
                                                        "context": "KeyError"})
    t.join()


if __name__ == "__main__":
    main()
