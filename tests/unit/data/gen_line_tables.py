# Writes one line per code object: "minor format firstlineno hex-table offset:line,...".
# Run with each interpreter: python3 gen_line_tables.py >> line_tables.txt
import binascii, sys, types

SOURCE = '''
def simple(a, b):
    c = a + b
    if c > 3:
        return c
    return -c

def loops(n):
    total = 0
    for i in range(n):
        try:
            total += 1 // i
        except ZeroDivisionError:
            total -= 1
    while total > 0:
        total -= 2
    return [x * 2 for x in range(total)]

def far(x):
    y = x
''' + "\n" * 300 + '''    y += 1
''' + "\n" * 40 + '''    return (y,
            x)

class K:
    def meth(self, é="ü"):
        with open(é) as f:
            return f.read()
'''

def codes(co):
    yield co
    for c in co.co_consts:
        if isinstance(c, types.CodeType):
            yield from codes(c)

def expected(co):
    if hasattr(co, "co_lines"):
        out = []
        for start, end, line in co.co_lines():
            for off in range(start, end, 2):
                out.append((off, -1 if line is None else line))
        return out
    import dis
    starts = list(dis.findlinestarts(co))
    out = []
    for ins in dis.get_instructions(co):
        line = co.co_firstlineno
        for off, ln in starts:
            if off <= ins.offset:
                line = ln
        out.append((ins.offset, line))
    return out

minor = sys.version_info[1]
fmt = "lnotab" if minor <= 9 else ("linetable310" if minor == 10 else "locations311")
top = compile(SOURCE, "sample.py", "exec")
for co in codes(top):
    table = co.co_lnotab if minor <= 9 else co.co_linetable
    pairs = ",".join("%d:%d" % p for p in expected(co))
    print(minor, fmt, co.co_firstlineno, binascii.hexlify(table).decode() or "-", pairs)
