import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { StorageEvent } from './interface.js';
import { WatchFanout } from './watch-fanout.js';

function fanout(): { fanout: WatchFanout; commit: (...keys: string[]) => void } {
  let revision = 0;
  const instance = new WatchFanout({ currentRevision: () => revision, compactedRevision: () => 0, readEvents: () => ({ events: [], scannedThrough: revision }) });
  return {
    fanout: instance,
    commit: (...keys) => {
      const events: StorageEvent[] = keys.map((key) => ({ type: 'PUT', key, value: '{}', revision: ++revision, createRevision: revision }));
      instance.publish(events);
    },
  };
}

describe('WatchFanout', () => {
  it('a commit reaches exactly the watches whose prefix its keys start with, whatever the prefix looks like', () => {
    const { fanout: instance, commit } = fanout();
    const seen: Record<string, string[]> = { things: [], widgets: [], all: [], everything: [], partial: [], exact: [] };
    const watch = (name: string, prefix: string) => instance.watch(prefix, 0, { onEvent: (event) => seen[name].push(event.key) });
    watch('things', '/registry/example.com/things/');
    watch('widgets', '/registry/example.com/widgets/');
    watch('all', '/registry/');
    watch('everything', '');
    watch('partial', '/registry/example.com/thi'); // not at a '/': found by comparison
    watch('exact', '/registry/example.com/widgets/default/w1');
    commit('/registry/example.com/things/default/a');
    commit('/registry/example.com/widgets/default/w1', '/registry/example.com/things/default/b', '/other/x');
    assert.deepEqual(seen.things, ['/registry/example.com/things/default/a', '/registry/example.com/things/default/b']);
    assert.deepEqual(seen.widgets, ['/registry/example.com/widgets/default/w1']);
    assert.deepEqual(seen.all, ['/registry/example.com/things/default/a', '/registry/example.com/widgets/default/w1', '/registry/example.com/things/default/b']);
    assert.deepEqual(seen.everything, ['/registry/example.com/things/default/a', '/registry/example.com/widgets/default/w1', '/registry/example.com/things/default/b', '/other/x']);
    assert.deepEqual(seen.partial, ['/registry/example.com/things/default/a', '/registry/example.com/things/default/b']);
    assert.deepEqual(seen.exact, ['/registry/example.com/widgets/default/w1']);
  });

  it('watches get a commit in the order they were made, each its events in revision order; a stopped watch gets nothing more', () => {
    const { fanout: instance, commit } = fanout();
    const order: string[] = [];
    const second = instance.watch('/registry/b/', 0, { onEvent: (event) => order.push(`b:${event.revision}`) });
    instance.watch('/registry/', 0, {
      onEvent: (event) => {
        order.push(`all:${event.revision}`);
        if (event.revision === 2) second.stop();
      },
    });
    instance.watch('/registry/a/', 0, { onEvent: (event) => order.push(`a:${event.revision}`) });
    commit('/registry/a/1', '/registry/b/1');
    commit('/registry/b/2');
    assert.deepEqual(order, ['b:2', 'all:1', 'all:2', 'a:1', 'all:3']);
  });
});
