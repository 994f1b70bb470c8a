# Names the frames of the heap profile: tracemalloc gives (file, line) only, the profile wants the
# function each line is in.

import linecache
import sys


class FunctionNames:
    """
    The function a line of a file is in (the innermost). The program's files are compiled again
    (few, and every line is found); libraries are read from the code objects of the loaded modules'
    functions and classes, which is much cheaper than compiling the standard library's files.
    """

    def __init__(self, filenames, is_user_file):
        self.lines = {f: {} for f in filenames}  # file -> line -> (span, name)
        libraries = set()
        for filename in filenames:
            if is_user_file(filename):
                self.add_compiled(filename)
            else:
                libraries.add(filename)
        if libraries:
            self.add_loaded(libraries)

    def at(self, filename, line):
        found = self.lines.get(filename, {}).get(line)
        return found[1] if found else ''

    def add_code(self, code, outer=None):
        import dis

        todo = [(code, outer)]
        while todo:
            code, outer = todo.pop()
            lines = self.lines.get(code.co_filename)
            name = getattr(code, 'co_qualname', None) or (code.co_name if outer in (None, '<module>') else outer + '.' + code.co_name)
            if lines is not None:
                if hasattr(code, 'co_lines'):  # 3.10+: what findlinestarts reads, without its Python loop
                    starts = list({line for _, _, line in code.co_lines() if line is not None}) or [code.co_firstlineno]
                else:
                    starts = [line for _, line in dis.findlinestarts(code) if line is not None] or [code.co_firstlineno]
                span = max(starts) - min(min(starts), code.co_firstlineno)
                for line in starts + [code.co_firstlineno]:
                    known = lines.get(line)
                    if known is None or span < known[0]:  # the innermost code object a line is in
                        lines[line] = (span, name)
            todo.extend((c, name) for c in code.co_consts if hasattr(c, 'co_code'))

    def add_compiled(self, filename):
        try:
            code = compile(''.join(linecache.getlines(filename)), filename, 'exec', dont_inherit=True)
        except Exception:
            return
        self.add_code(code)

    def add_loaded(self, filenames):
        seen = set()
        for module in list(sys.modules.values()):
            # A module loaded from a file none of the frames are in holds no function of theirs but
            # ones it imported, which their own modules hold (frozen modules have other filenames).
            origin = getattr(getattr(module, '__spec__', None), 'origin', None)
            if origin and origin != 'frozen' and getattr(module, '__file__', None) == origin and origin not in filenames:
                continue
            values = list(getattr(module, '__dict__', {}).values())
            while values:
                value = values.pop()
                if id(value) in seen:
                    continue
                seen.add(id(value))
                value = getattr(value, '__func__', value)  # staticmethod, classmethod, bound method
                code = getattr(value, '__code__', None)
                if code is not None and hasattr(code, 'co_code'):
                    if code.co_filename in filenames:
                        self.add_code(code)
                elif isinstance(value, type) and getattr(value, '__module__', None) == getattr(module, '__name__', None):
                    values.extend(vars(value).values())
                elif isinstance(value, property):
                    values.extend(f for f in (value.fget, value.fset, value.fdel) if f is not None)
