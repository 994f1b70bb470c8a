# Writes the recording's files when the process ends (Recorder.finish): the heap profile, the CPU
# profile and the trace, each to a .tmp file renamed into place, so no half-written file is left.

import json
import os
import sys

from .series import straight_lines_dropped

json_string = json.encoder.encode_basestring_ascii  # what json.dumps does for a str


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

    def format_events(self, limit):
        """
        Formats up to `limit` events not formatted yet, in place. The sampler calls it while the
        loop is idle, so that little of it is left for the exit, when the program waits for it.
        """
        events = self.events
        i = self.formatted
        stop = min(len(events), i + limit)
        if i >= stop:
            return
        templates = self.templates
        if templates is None:
            head = '"pid":%d,"tid":%d' % (self.pid, self.pid)
            # The events' constant parts formatted once: about 20 events a task step on I/O-bound
            # programs. An 'n' or 'X' event's tuple is its template's arguments (%.0s takes its kind).
            templates = self.templates = (
                '{"ph":"b","cat":"async","name":"%%s","id":%%d,%s,"ts":%%.1f,"args":{"asyncId":%%d,"triggerAsyncId":%%d%%s}}' % head,
                '%%.0s{"ph":"n","cat":"async","name":"promiseResolve","id":%%d,%s,"ts":%%.1f}' % head,
                '%%.0s{"ph":"X","cat":"async.callback","name":"%%s",%s,"ts":%%.1f,"dur":%%.1f,"args":{"asyncId":%%d}}' % head,
            )
        begin, resolve, callback = templates
        site_args = self.site_args
        for file, line, function in self.sites[len(site_args):]:
            site_args.append(',"site":%s,"function":%s' % (json_string('%s:%d:0' % (file, line)), json_string(function)))
        while i < stop:
            e = events[i]
            kind = e[0]
            if kind == 'n':
                events[i] = resolve % e
            elif kind == 'X':
                events[i] = callback % e
            elif kind == 'b':
                _, rid, type_name, ts, trigger, site, weight, pool, task = e
                extra = site_args[site] if site >= 0 else ''
                if task:
                    extra += ',"task":%d' % task
                if pool:
                    extra += ',"threadpool":true'
                if weight > 1:
                    extra += ',"weight":%d' % weight
                events[i] = begin % (type_name, rid, ts, rid, trigger, extra)
            i += 1
        self.formatted = stop

    def write_trace(self, name, end_us):
        pid = self.pid
        head = '"pid":%d,"tid":%d' % (pid, pid)
        self.format_events(len(self.events))
        lines = ['{"traceEvents":[']
        emit = lines.append
        process_name = ' '.join([os.path.basename(sys.executable)] + sys.argv)
        emit('{"ph":"M","name":"process_name",%s,"args":{"name":%s}}' % (head, json.dumps(process_name)))
        emit('{"ph":"M","name":"thread_name",%s,"args":{"name":"main"}}' % head)
        lines.extend(self.events)
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
