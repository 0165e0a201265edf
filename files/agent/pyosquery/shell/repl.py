"""The interactive prompt, on apsw's shell: its line editing, history and continuation
handling, with osqueryi's prompts and our session doing the work."""

import os

import apsw.shell

INTRO = "Using a virtual database. Need help, type '.help'\n"


class Repl(apsw.shell.Shell):
    """apsw's shell loop; every complete line goes to our Session instead of apsw's."""

    def __init__(self, session):
        # a daemon reached over its socket has no local connection: apsw then opens its own
        apsw.shell.Shell.__init__(self, db=getattr(session.engine, "connection", None))
        self.session = session
        self._prompts()
        self.history_file = os.path.join(os.path.expanduser("~"), ".pyosquery_history")

    def _prompts(self):
        # a connected session (--connect, .connect) shows osqueryi's [*] before its prompts
        prefix = "[*]" if getattr(self.session.engine, "connected", False) else ""
        self.prompt = prefix + "osquery> "
        self.moreprompt = prefix + "    ...> "

    def process_complete_line(self, command):
        if not command.strip():
            return
        if command.lstrip().startswith("."):
            self.session.command(command.strip())
            self._prompts()
        else:
            self.session.sql(command)


def run_repl(session):
    Repl(session).cmdloop(intro=INTRO)
