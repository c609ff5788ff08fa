// An embedded interpreter: a C program links libpython and runs Python code that parks
// (embedded_worker -> embedded_inner waits on an Event). The truth and ready files come from
// _scenario.py, as for every Python scenario; the frames' file is "<embedded>".
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdio.h>

static const char *kCode =
    "import sys\n"
    "sys.path.insert(0, SCENARIO_DIR)\n"
    "import threading, _scenario\n"
    "def embedded_inner(event):\n"
    "    event.wait()\n"
    "def embedded_worker(event):\n"
    "    embedded_inner(event)\n"
    "never = threading.Event()\n"
    "worker = threading.Thread(target=embedded_worker, args=(never,), name='embedded-worker')\n"
    "worker.daemon = True\n"
    "worker.start()\n"
    "_scenario.report_when_parked(expected=2)\n"
    "worker.join()\n";

// Parks the C caller under a native frame of its own, so merged stacks show C above Python.
__attribute__((noinline)) static int run_embedded_code(PyObject *globals) {
  PyObject *code = Py_CompileString(kCode, "<embedded>", Py_file_input);
  PyObject *result = code ? PyEval_EvalCode(code, globals, globals) : NULL;
  Py_XDECREF(code);
  if (!result) {
    PyErr_Print();
    return 3;
  }
  Py_DECREF(result);
  return 0;
}

int main(void) {
  Py_Initialize();
  PyObject *main_module = PyImport_AddModule("__main__");
  PyObject *globals = PyModule_GetDict(main_module);
  PyObject *dir = PyUnicode_FromString(SNAG_SCENARIO_DIR);
  PyDict_SetItemString(globals, "SCENARIO_DIR", dir);
  Py_DECREF(dir);
  int status = run_embedded_code(globals);
  Py_Finalize();
  return status;
}
