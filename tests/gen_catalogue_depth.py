"""gen_catalogue_depth.py - scenarios judged by what the service does.

Loaded by gen_catalogue.py (register(m) with that module: its helpers,
hosts and @scenario), appended after its own scenarios so their ids stay.
Each attack varies what a tool may vary (NodeId encodings, link
addresses, unit ids, sessions, answers, pace) so that a rule matches the
technique, not one frame:

  OPC UA  BuildInfo reads among process tags, method calls on string
          NodeIds, a Boolean command vs a numeric setpoint write, address
          space extension and deletion, ActivateSession guessing answered
          with Bad results on one channel
  DNP3    g70v3 open for write (firmware name), for append, for read,
          delete file
  Modbus  UMAS program written into the PLC (0x30-0x32) and read out of it
          (0x33-0x35), fc 23 register write
  S7      REAL written into a DB vs a bit written to an output
"""
import struct


def register(m):
    g = m.g
    scenario = m.scenario

    # --- OPC UA --------------------------------------------------------------

    def node_str(ns, s):
        return struct.pack('<BH', 3, ns) + m.ua_string(s)

    def read_value_id(node):
        return node + struct.pack('<I', 13) + m.ua_string(None) + b'\x00\x00' \
            + m.ua_string(None)

    @scenario('opcua', 'T0888', 'Read of BuildInfo SoftwareVersion / ManufacturerName '
              'hidden among process tags (numeric NodeIds)')
    def _(cap):
        nodes = [node_str(2, 'Line1.Tank.Level'), m.ua_node_numeric(0, 2264),
                 node_str(2, 'Line1.Pump.Speed'), m.ua_node_numeric(0, 2262)]
        body = struct.pack('<dI', 500.0, 2) + struct.pack('<i', len(nodes)) \
            + b''.join(read_value_id(n) for n in nodes)
        m.opcua_attack(cap, [(631, body)])

    @scenario('opcua', 'T0888', 'Read of the whole ServerStatus structure (i=2256), '
              'maxAge 0, on a second channel')
    def _(cap):
        body = struct.pack('<dI', 0.0, 3) + struct.pack('<i', 1) \
            + read_value_id(struct.pack('<BBH', 1, 0, 2256))
        m.opcua_attack(cap, [(631, body), (631, body)], gap=1.0)

    @scenario('opcua', 'T0871', 'Call of a server method on string NodeIds '
              '(ns=3;s=Recipe.Load) from an unknown host')
    def _(cap):
        body = struct.pack('<i', 1) + node_str(3, 'Recipe') + node_str(3, 'Recipe.Load') \
            + struct.pack('<i', 1) + b'\x0c' + m.ua_string('batch-666')
        m.opcua_attack(cap, [(712, body), (712, body)], gap=0.4)

    @scenario('opcua', 'T0855', 'Write of a Boolean command (Valve.Open = true) on a '
              'string NodeId')
    def _(cap):
        body = struct.pack('<i', 1) + node_str(2, 'Valve7.Open') + struct.pack('<I', 13) \
            + m.ua_string(None) + b'\x01' + b'\x01\x01'
        m.opcua_attack(cap, [(673, body)])

    @scenario('opcua', 'T0836', 'Write of a Float alarm limit (Tank.HighLimit = 250.0) '
              'on a string NodeId')
    def _(cap):
        body = struct.pack('<i', 1) + node_str(2, 'Tank.HighLimit') + struct.pack('<I', 13) \
            + m.ua_string(None) + b'\x01' + b'\x0a' + struct.pack('<f', 250.0)
        m.opcua_attack(cap, [(673, body)])

    @scenario('opcua', 'T0809', 'DeleteReferences then DeleteNodes of alarm condition nodes')
    def _(cap):
        ref = struct.pack('<i', 1) + m.ua_node_numeric(2, 5001) + m.ua_node_numeric(0, 47) \
            + b'\x01' + m.ua_node_numeric(2, 5002) + b'\x01'
        dele = struct.pack('<i', 2) + m.ua_node_numeric(2, 5001) + b'\x01' \
            + m.ua_node_numeric(2, 5002) + b'\x01'
        m.opcua_attack(cap, [(506, ref), (500, dele)], gap=0.2)

    @scenario('opcua', 'T0831', 'AddNodes of a shadow variable and AddReferences to it')
    def _(cap):
        add = struct.pack('<i', 1) + m.ua_node_numeric(2, 1000) + m.ua_node_numeric(0, 47) \
            + struct.pack('<BHI', 2, 2, 9001) + struct.pack('<H', 2) + m.ua_string('Level') \
            + struct.pack('<I', 2) + b'\x00\x00\x00' + m.ua_node_numeric(0, 63)
        ref = struct.pack('<i', 1) + m.ua_node_numeric(2, 1000) + m.ua_node_numeric(0, 47) \
            + b'\x01' + m.ua_string(None) + struct.pack('<BHI', 2, 2, 9001) \
            + struct.pack('<I', 2)
        m.opcua_attack(cap, [(488, add), (494, ref)], gap=0.3)

    @scenario('opcua', 'T0806', 'ActivateSession guessing on one channel, answered '
              'Bad_IdentityTokenRejected, one try per 1.5 s')
    def _(cap):
        s = m.Tcp(cap, 'attacker', 'plc', 4840, attack=True)
        t = s.open(m.ATTACK_AT)
        t = m.ua_open(s, t, 77)
        t = m.ua_call(s, t, 77, 461, m.ua_string(None) * 6 + struct.pack('<dI', 60000.0, 0),
                      2)
        for i in range(7):
            tok = m.ua_string('u') + m.ua_string('operator') + m.ua_string(b'pw%02d' % i) \
                + m.ua_string(None)
            token = struct.pack('<BBH', 1, 0, 324) + b'\x01' + struct.pack('<I', len(tok)) \
                + tok
            body = m.ua_string(None) * 2 + struct.pack('<ii', -1, -1) + token \
                + m.ua_string(None) * 2
            # ActivateSessionResponse whose serviceResult is Bad_IdentityTokenRejected
            resp = struct.pack('<qII', 133000000000000000, 30 + i, 0x80210000) + b'\x00' \
                + struct.pack('<i', -1) + b'\x00\x00\x00' + m.ua_string(None) \
                + struct.pack('<ii', -1, -1)
            s.seq += 1
            s.req(t, m.ua_msg(b'MSG', 77, 1, s.seq, s.seq, 467, m.ua_req_header(30 + i) + body),
                  m.ua_msg(b'MSG', 77, 1, s.seq, s.seq, 470, resp))
            t += 1.5
        s.close(t)

    # --- DNP3 ----------------------------------------------------------------

    @scenario('dnp3', 'T0839', 'firmware image opened for write (g70v3 /fw/rtu_v2.hex), '
              'outstation 1024')
    def _(cap):
        m.dnp3_attack(cap, [(25, m.g70v3(b'/fw/rtu_v2.hex', 2, size=262144, block=2048,
                                         req=7))], src=3, dst=1024)

    @scenario('dnp3', 'T0843', 'file opened for append (mode 3) to the logic file')
    def _(cap):
        m.dnp3_attack(cap, [(25, m.g70v3(b'logic.cfg', 3, size=900, req=2))], src=100)

    @scenario('dnp3', 'T0845', 'configuration file opened for read (g70v3 mode 1)')
    def _(cap):
        m.dnp3_attack(cap, [(25, m.g70v3(b'/etc/outstation.xml', 1, size=0, req=9))],
                      gap=0.3)

    @scenario('dnp3', 'T0809', 'delete file (fc 27, g70v3) of the event log')
    def _(cap):
        m.dnp3_attack(cap, [(27, m.g70v3(b'/log/events.dat', 0, size=0, req=4))])

    # --- Modbus / UMAS ---------------------------------------------------------

    def umas(session, func, data=b''):
        return bytes((90, session, func)) + data

    @scenario('modbus', 'T0843', 'UMAS program written into the PLC: 0x30, five 0x31 '
              'blocks, 0x32 (session 0x17)')
    def _(cap):
        pdus = [(umas(0x17, 0x30, b'\x00\x01'), umas(0x17, 0xFE))]
        pdus += [(umas(0x17, 0x31, struct.pack('<HH', 1, i) + bytes(200)),
                  umas(0x17, 0xFE)) for i in range(5)]
        pdus += [(umas(0x17, 0x32, struct.pack('<HH', 1, 5)), umas(0x17, 0xFE))]
        m.modbus_attack(cap, pdus, unit=0, gap=0.08)

    @scenario('modbus', 'T0845', 'UMAS program read out of the PLC: 0x33 then 0x34 '
              'blocks whose answers carry it')
    def _(cap):
        pdus = [(umas(0x01, 0x33, b'\x00\x01\xfb\x00'), umas(0x01, 0xFE, b'\x00\x01'))]
        pdus += [(umas(0x01, 0x34, struct.pack('<HH', 1, i)),
                  umas(0x01, 0xFE, b'\x00\x00' + bytes(240))) for i in range(1, 6)]
        m.modbus_attack(cap, pdus, unit=255, gap=0.03)

    @scenario('modbus', 'T0836', 'read/write multiple registers (fc 23) setting two '
              'registers, unit 3')
    def _(cap):
        pdu = struct.pack('>BHHHHB', 23, 0, 2, 200, 2, 4) + struct.pack('>HH', 9999, 9999)
        m.modbus_attack(cap, [(pdu, bytes((23, 4)) + bytes(4))], unit=3)

    # --- S7comm ----------------------------------------------------------------

    def s7_write(ts_param, area, db, byte, bit, data_ts, value, bits):
        param = bytes((0x05, 1)) + struct.pack('>BBBBHHB', 0x12, 0x0A, 0x10, ts_param, 1,
                                               db, area) \
            + ((byte << 3) | bit).to_bytes(3, 'big')
        data = struct.pack('>BBH', 0x00, data_ts, bits) + value
        return param, data

    @scenario('s7comm', 'T0836', 'write var REAL DB10.DBD20 = 9999.0 (transport REAL)')
    def _(cap):
        p, d = s7_write(0x08, 0x84, 10, 20, 0, 0x07, struct.pack('>f', 9999.0), 4)
        m.s7_attack(cap, [(m.s7_job(21, p, d), m.s7_ack(21, b'\x05\x01', b'\xff'))])

    @scenario('s7comm', 'T0855', 'write var bit Q0.1 = 1 (output, transport BIT)')
    def _(cap):
        p, d = s7_write(0x01, 0x82, 0, 0, 1, 0x03, b'\x01', 1)
        m.s7_attack(cap, [(m.s7_job(22, p, d), m.s7_ack(22, b'\x05\x01', b'\xff'))])
