# Writes the recording's files when the process ends (Recorder.finish): the heap profile, the CPU
# profile and the trace, each to a .tmp file renamed into place, so no half-written file is left.

import json
import os
import sys

from .series import straight_lines_dropped


class Writer:
    """The files of the recording (a part of Recorder)."""

    def write_heap_profile(self, names):
        """Written apart: a failure here costs the heap profile only, not the recording."""
        heap = self.heap
        try:
            if not self.sampler.is_alive():
                heap.close()
            else:  # still reading a window's traces: that window is left out
                heap.enabled = False
            if heap.enabled or heap.windows != [0, 0]:
                self.write_json('%d.heapprofile' % self.pid, heap.profile())
                names['heapprofile'] = self.heap_file = '%d.heapprofile' % self.pid
        except Exception as error:
            sys.stderr.write('loopscope: could not write the heap profile of process %d: %s\n' % (self.pid, error))

    def write_json(self, name, value):
        path = os.path.join(self.out, name)
        text = json.dumps(value, separators=(',', ':'))  # dumps: C encoder all through, dump is not
        with open(path + '.tmp', 'w') as f:
            f.write(text)
        os.replace(path + '.tmp', path)

    def write_trace(self, name, end_us):
        pid = self.pid
        head = '"pid":%d,"tid":%d' % (pid, pid)
        lines = ['{"traceEvents":[']
        emit = lines.append
        process_name = ' '.join([os.path.basename(sys.executable)] + sys.argv)
        emit('{"ph":"M","name":"process_name",%s,"args":{"name":%s}}' % (head, json.dumps(process_name)))
        emit('{"ph":"M","name":"thread_name",%s,"args":{"name":"main"}}' % head)
        site_args = []
        for file, line, function in self.sites:
            args = ',"site":%s,"function":%s' % (json.dumps('%s:%d:0' % (file, line)), json.dumps(function))
            site_args.append(args)
        # The events' constant parts formatted once: about 20 events a task step on I/O-bound
        # programs. An 'n' or 'X' event's tuple is its template's arguments (%.0s takes its kind).
        begin = '{"ph":"b","cat":"async","name":"%%s","id":%%d,%s,"ts":%%.1f,"args":{"asyncId":%%d,"triggerAsyncId":%%d%%s}}' % head
        resolve = '%%.0s{"ph":"n","cat":"async","name":"promiseResolve","id":%%d,%s,"ts":%%.1f}' % head
        callback = '%%.0s{"ph":"X","cat":"async.callback","name":"%%s",%s,"ts":%%.1f,"dur":%%.1f,"args":{"asyncId":%%d}}' % head
        for e in self.events:
            kind = e[0]
            if kind == 'n':
                emit(resolve % e)
            elif kind == 'X':
                emit(callback % e)
            else:
                _, rid, type_name, ts, trigger, site, weight, pool, task = e
                extra = site_args[site] if site >= 0 else ''
                if task:
                    extra += ',"task":%d' % task
                if pool:
                    extra += ',"threadpool":true'
                if weight > 1:
                    extra += ',"weight":%d' % weight
                emit(begin % (type_name, rid, ts, rid, trigger, extra))
        for start, duration, generation in self.gc_pauses:
            emit('{"ph":"X","cat":"gc","name":"GC",%s,"ts":%.1f,"dur":%.1f,"args":{"generation":%d}}' % (head, start, duration, generation))
        for t, late in self.drift:
            emit('{"ph":"C","cat":"loop","name":"timerDrift",%s,"ts":%.1f,"args":{"lateMs":%.3f}}' % (head, t, late))
        for t, rss in self.memory:
            emit('{"ph":"C","cat":"memory","name":"memory",%s,"ts":%.1f,"args":{"heapUsed":%d,"heapTotal":%d,"external":0,"arrayBuffers":0,"rss":%d}}'
                 % (head, t, rss, rss, rss))
        for t, queued, busy, workers in self.executor:
            emit('{"ph":"C","cat":"executor","name":"defaultExecutor",%s,"ts":%.1f,"args":{"queued":%d,"busy":%d,"workers":%d}}'
                 % (head, t, queued, busy, workers))
        sched = self.schedstat
        triples = [(sched[i], sched[i + 1], sched[i + 2]) for i in range(0, len(sched) - 2, 3)]
        for t, on_cpu, run_queue in straight_lines_dropped(triples):
            emit('{"ph":"C","cat":"cpu","name":"schedstat",%s,"ts":%.1f,"args":{"onCpuNs":%d,"runQueueNs":%d}}' % (head, t, on_cpu, run_queue))
        body = lines[0] + '\n' + ',\n'.join(lines[1:])
        metadata = json.dumps(self.metadata(end_us), separators=(',', ':'))
        path = os.path.join(self.out, name)
        with open(path + '.tmp', 'w') as f:
            f.write(body)
            f.write('\n],\n"displayTimeUnit":"ms",\n"metadata":%s}\n' % metadata)
        os.replace(path + '.tmp', path)
