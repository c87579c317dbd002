"""Pass/fail bookkeeping for the tests that drive the shardlab binary as a user would.

Each case has a name and a list of problems (empty: it passed); a failed case shows what the
process printed. `summary()` prints the closing 'N passed, M failed' line the tests end with.
"""
import subprocess


class Tally:
    def __init__(self, shardlab):
        self.sl = shardlab
        self.passed = self.failed = 0

    def report(self, name, problems, proc=None):
        if problems:
            self.failed += 1
            detail = ""
            if proc is not None:
                if proc.stdout.strip():
                    detail += f"\n  stdout: {proc.stdout.strip()[:600]}"
                detail += f"\n  stderr: {proc.stderr.strip()[:600]}"
            print(f"FAIL {name}: {'; '.join(problems)}{detail}")
        else:
            self.passed += 1
            print(f"PASS {name}")

    def check(self, condition, name, proc=None):
        """A case that is one condition, named by what it asserts."""
        self.report(name, [] if condition else ["not so"], proc)

    def run(self, argv, stdin=None):
        """shardlab with `argv` (the binary is added), its output captured as text."""
        return subprocess.run([self.sl] + argv, capture_output=True, text=True, input=stdin,
                              timeout=300)

    def problems_of(self, proc, code, needles):
        """What is wrong with a run that should exit `code` and say each of `needles` on stderr."""
        if proc.returncode < 0:
            problems = [f"killed by signal {-proc.returncode}"]
        elif proc.returncode != code:
            problems = [f"exit {proc.returncode}, expected {code}"]
        else:
            problems = []
        return problems + [f"stderr lacks {n!r}" for n in needles if n not in proc.stderr]

    def expect(self, name, argv, code, needles, stdin=None):
        proc = self.run(argv, stdin)
        self.report(name, self.problems_of(proc, code, needles), proc)
        return proc

    def summary(self):
        """Prints the closing line; returns the exit code."""
        print(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0
